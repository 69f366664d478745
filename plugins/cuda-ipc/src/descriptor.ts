/**
 * The descriptor of registered tensors: what a consumer on the same host needs to read them
 * (the producer, the liveness slot, per device an IPC event handle, per tensor the IPC handle of
 * the allocation holding it with the offset inside it). Strings and numbers only, so it survives
 * structuredClone, JSON and v8 serialization unchanged; it holds handles, never the bytes.
 */
import { CudaIpcError } from './errors';
import type { ProcessIdentity } from './host-identity';
import type { TableSlot } from './registration-table';

export interface CudaIpcDeviceDescriptor {
  /** The device's identity (its PCI address, @tensorwire/cuda/internal `deviceIdentity`). */
  readonly id: string;
  /** IPC handle (base64, 64 bytes) of the interprocess event recorded after the producer's work on the device. */
  readonly event: string;
}

export interface CudaIpcRegionDescriptor {
  /** Index into `devices`; -1 for a 0-byte tensor. */
  readonly device: number;
  /** IPC handle (base64, 64 bytes) of the allocation holding the tensor; '' for a 0-byte tensor. */
  readonly handle: string;
  /** Bytes of that allocation. */
  readonly size: number;
  /** Where the tensor starts in it (the caching allocator cuts tensors out of larger segments). */
  readonly offset: number;
  readonly nbytes: number;
}

export interface CudaIpcDescriptor {
  readonly transport: 'cuda-ipc';
  readonly version: 1;
  /** Unique id of this registration (what `release` drops). */
  readonly id: string;
  /** The producing process's name (its processName) and identity. */
  readonly name: string;
  readonly producer: ProcessIdentity;
  readonly table: TableSlot;
  readonly devices: readonly CudaIpcDeviceDescriptor[];
  readonly regions: readonly CudaIpcRegionDescriptor[];
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const BASE64_HANDLE = /^[A-Za-z0-9+/]{86}==$/; // 64 bytes

/** Validate an untrusted value as a descriptor; throws CudaIpcError('CUDA_IPC_BAD_DESCRIPTOR'). */
export function asDescriptor(value: unknown): CudaIpcDescriptor {
  const d = value as Partial<CudaIpcDescriptor> | null;
  const bad = (why: string): never => {
    throw new CudaIpcError('CUDA_IPC_BAD_DESCRIPTOR', `not a cuda-ipc descriptor: ${why}`);
  };
  if (!d || typeof d !== 'object') return bad('expected an object');
  if (d.transport !== 'cuda-ipc') return bad(`transport is ${JSON.stringify(d.transport)}`);
  if (d.version !== 1) return bad(`unsupported version ${JSON.stringify(d.version)}`);
  if (!isStr(d.id) || !isStr(d.name)) return bad('missing id or name');
  const p = d.producer;
  if (!p || !isStr(p.host) || !isCount(p.pid) || p.pid === 0 || !isStr(p.start) || !/^\d+$/.test(p.start)) return bad('malformed producer');
  const s = d.table;
  if (!s || !isCount(s.fd) || !isStr(s.ino) || !isCount(s.slot) || !isStr(s.token) || !/^[0-9a-f]{16}$/.test(s.token)) {
    return bad('malformed registration slot');
  }
  if (!Array.isArray(d.devices) || !Array.isArray(d.regions)) return bad('missing devices or regions');
  for (const dev of d.devices) {
    if (!dev || !isStr(dev.id) || !isStr(dev.event) || !BASE64_HANDLE.test(dev.event)) return bad('malformed device');
  }
  for (const r of d.regions) {
    if (!r || !Number.isInteger(r.device) || !isStr(r.handle) || !isCount(r.size) || !isCount(r.offset) || !isCount(r.nbytes)) {
      return bad('malformed region');
    }
    if (r.nbytes === 0) continue;
    if (r.device < 0 || r.device >= d.devices.length) return bad(`a region names device ${r.device} of ${d.devices.length}`);
    if (!BASE64_HANDLE.test(r.handle)) return bad('a region without a 64-byte IPC handle');
    if (r.offset + r.nbytes > r.size) return bad(`a region of ${r.nbytes} bytes at offset ${r.offset} runs past its allocation of ${r.size}`);
  }
  return d as CudaIpcDescriptor;
}

/** Key of a producer process (pid recycling included). */
export function producerKey(p: ProcessIdentity): string {
  return `${p.pid}@${p.start}`;
}
