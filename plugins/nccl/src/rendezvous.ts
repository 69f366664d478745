/**
 * What the ranks of a group exchange through core's rendezvous store before NCCL starts: each
 * rank's GPU (to see ranks that share one, shared-gpu.ts), and rank 0's NCCL unique id
 * (ncclGetUniqueId) with the address and token of its control channel.
 *
 * Keys are write-once per group name, and a store may still hold those of an earlier group of
 * the same name (core drops a destroyed group's keys; a test harness's store may not), so every
 * creation uses a generation's prefix, `nccl/<k>/`: each rank claims the first generation whose
 * slot for its rank is free (a write-once set that fails when taken). The ranks of a new group
 * thus meet in the same generation whether the store was emptied (all claim 0) or not (each
 * rank's slot was taken as often as the others'), and whichever processes take the ranks.
 */
import type { RendezvousStore } from '@tensorwire/core';
import { NcclError } from './errors';

/** Rank 0's answer to everyone. */
export interface RootInfo {
  readonly uniqueId: Uint8Array;
  readonly host: string;
  readonly port: number;
  readonly token: bigint;
}

const encoder = new TextEncoder();

/** Generations tried before giving up (each earlier creation of the name took one). */
const MAX_GENERATIONS = 100_000;

/** The generation this rank joins (see above); rethrows store failures other than "already set". */
export async function claimGeneration(store: RendezvousStore, rank: number): Promise<number> {
  const mark = encoder.encode(String(process.pid));
  for (let k = 0; k < MAX_GENERATIONS; k++) {
    try {
      await store.set(`nccl/${k}/rank/${rank}`, mark);
      return k;
    } catch (err) {
      if (!/already set/.test(String((err as Error)?.message ?? err))) throw err;
    }
  }
  throw new NcclError('NCCL_CONNECT', `rank ${rank}: no free rendezvous generation among ${MAX_GENERATIONS}`);
}
const decoder = new TextDecoder();

export function encodeRoot(r: RootInfo): Uint8Array {
  return encoder.encode(JSON.stringify({ uid: Buffer.from(r.uniqueId).toString('base64'), host: r.host, port: r.port, token: r.token.toString() }));
}

export function decodeRoot(bytes: Uint8Array, group: string): RootInfo {
  try {
    const o = JSON.parse(decoder.decode(bytes)) as { uid: string; host: string; port: number; token: string };
    const uniqueId = new Uint8Array(Buffer.from(o.uid, 'base64'));
    if (uniqueId.byteLength !== 128 || typeof o.host !== 'string' || !Number.isInteger(o.port)) throw new Error('bad fields');
    return { uniqueId, host: o.host, port: o.port, token: BigInt(o.token) };
  } catch (err) {
    throw new NcclError('NCCL_CONNECT', `nccl group '${group}': rank 0's rendezvous entry is malformed (${(err as Error).message}): is another transport's group using the name?`);
  }
}

/** The store's keys of one generation of a group. */
export class GroupKeys {
  constructor(
    private readonly store: RendezvousStore,
    private readonly prefix: string,
  ) {}

  gpu(rank: number): string {
    return `${this.prefix}gpu/${rank}`;
  }

  get root(): string {
    return `${this.prefix}root`;
  }

  set(key: string, value: string | Uint8Array): Promise<void> {
    return this.store.set(key, typeof value === 'string' ? encoder.encode(value) : value);
  }

  async getText(key: string, timeoutMs: number): Promise<string> {
    return decoder.decode(await this.store.get(key, timeoutMs));
  }

  get(key: string, timeoutMs: number): Promise<Uint8Array> {
    return this.store.get(key, timeoutMs);
  }

  wait(keys: readonly string[], timeoutMs: number): Promise<void> {
    return this.store.wait(keys, timeoutMs);
  }
}
