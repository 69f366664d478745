/**
 * The serializable descriptor of registered tensors (NIXL calls this the metadata a reader needs:
 * the agent, its connection info, and per region an address, a size and a remote key). Only
 * strings and numbers, so it survives JSON and v8 serialization unchanged.
 */
import { NixlError } from './errors';

export interface NixlRegionDescriptor {
  /** Remote virtual address, decimal string (64-bit). '0' for an empty region. */
  readonly addr: string;
  /** Size in bytes, decimal string. */
  readonly size: string;
  /** Packed UCX remote key, base64 ('' for an empty region). */
  readonly rkey: string;
  /** Producer-local registration id (reference-counted per buffer). 0 for an empty region. */
  readonly reg: number;
  /** Address of the registration's generation slot and the token it holds while registered. */
  readonly genAddr: string;
  readonly token: string;
  /** true when the region is UCX-allocated pool memory (read with a true one-sided copy). */
  readonly pool: boolean;
  /**
   * CUDA memory (absent for host memory): 'staged' when the producer's UCX cannot register CUDA
   * memory, so a reader asks the producer to copy it to pinned memory first (`reg` and `token`
   * name it; `rkey` is empty); 'cuda' when it registered the device memory itself (`rkey` set; a
   * reader whose UCX cannot read CUDA memory asks for staging all the same).
   */
  readonly mode?: 'staged' | 'cuda';
  /** 'cuda:N' of the producer, for CUDA memory (information only). */
  readonly device?: string;
}

export interface NixlDescriptor {
  readonly transport: 'nixl';
  readonly version: 1;
  /** Unique id of this registration call (what `release` drops). */
  readonly id: string;
  /** The producing agent's name (its process name). */
  readonly agent: string;
  readonly host: string;
  readonly pid: number;
  /** The producer's UCP worker address, base64. */
  readonly workerAddress: string;
  /** Packed rkey of the producer's generation table, base64. */
  readonly genRkey: string;
  readonly regions: readonly NixlRegionDescriptor[];
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isDecimal = (v: string): boolean => /^\d{1,20}$/.test(v) && BigInt(v) < 2n ** 64n;

/** Validate an untrusted value as a descriptor; throws NixlError('NIXL_BAD_DESCRIPTOR'). */
export function asDescriptor(value: unknown): NixlDescriptor {
  const d = value as Partial<NixlDescriptor> | null;
  const bad = (why: string): never => {
    throw new NixlError('NIXL_BAD_DESCRIPTOR', `not a nixl descriptor: ${why}`);
  };
  if (!d || typeof d !== 'object') return bad('expected an object');
  if (d.transport !== 'nixl') return bad(`transport is ${JSON.stringify(d.transport)}`);
  if (d.version !== 1) return bad(`unsupported version ${JSON.stringify(d.version)}`);
  if (!isStr(d.id) || !isStr(d.agent) || !isStr(d.host) || typeof d.pid !== 'number') return bad('missing id/agent/host/pid');
  if (!isStr(d.workerAddress) || !isStr(d.genRkey) || !Array.isArray(d.regions)) return bad('missing worker address or regions');
  for (const r of d.regions) {
    if (!r || !isStr(r.addr) || !isStr(r.size) || !isStr(r.rkey) || !isStr(r.genAddr) || !isStr(r.token)) {
      return bad('malformed region');
    }
    if (![r.addr, r.size, r.genAddr, r.token].every(isDecimal)) return bad('an address, size or token that is not a decimal number');
    if (r.mode !== undefined && r.mode !== 'staged' && r.mode !== 'cuda') return bad(`unknown region mode ${JSON.stringify(r.mode)}`);
    if (r.mode !== undefined && r.size !== '0' && !(Number.isInteger(r.reg) && r.reg > 0)) return bad('a CUDA region without its registration id');
    if (r.size !== '0' && r.rkey === '' && r.mode !== 'staged') return bad('a non-empty region without a remote key');
  }
  return d as NixlDescriptor;
}
