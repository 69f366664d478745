/**
 * Loads the addon (`native/build/Release/tensorwire_nixl.node`) and types what it exports.
 * Loading fails with {@link NixlUnavailableError} saying how to fix it, never with a bare
 * "Cannot find module".
 *
 * UCX's memory hooks (libucm) patch mmap/munmap and crashed V8's garbage collector, so
 * `UCX_MEM_EVENTS=no` must be in the environment BEFORE libucx is loaded: this module sets it
 * (unless the user chose a value) and only then requires the addon.
 */
import * as path from 'node:path';
import { nativeAddonLoader } from '@tensorwire/core/spi';
import { NixlError } from './errors';

/** What `agent.register()` returns (one registration, reference-counted per buffer). */
export interface NativeRegistration {
  id: number;
  addr: bigint;
  size: number;
  rkey: Buffer;
  genAddr: bigint;
  token: bigint;
  refs: number;
  /** true when the buffer lies in UCX-allocated pool memory (true one-sided reads). */
  pool: boolean;
}

/** What `agent.registerDevice()` returns: a registration of CUDA memory. */
export interface NativeDeviceRegistration extends NativeRegistration {
  /** 'cuda': UCX registered the device memory (rkey set); 'staged': peers ask for staging (rkey empty). */
  mode: 'cuda' | 'staged';
}

export interface NativePeer {
  address: Uint8Array;
  name: string;
  pid: number;
  genRkey: Uint8Array;
}

/** Where a region of a read comes from: registered memory (addr, rkey), or CUDA memory the producer stages. */
export type NativeReadSource = { addr: bigint; rkey: Uint8Array } | { staged: true; reg: number };

/** Where a region of a read goes: host memory, or CUDA memory (size bytes at dstPtr on dstDevice). */
export type NativeReadDestination = { dst: Uint8Array } | { dstDevice: number; dstPtr: bigint; size: number };

export type NativeReadRegion = NativeReadSource & NativeReadDestination & { genAddr: bigint; token: bigint };

/** The registered pool's cache (see README, "The pool"). */
export interface NativePoolCacheStats {
  /** Chunks kept mapped for reuse, and their bytes (size classes, not requested sizes). */
  cachedChunks: number;
  cachedBytes: number;
  /** The cache's bound (TENSORWIRE_NIXL_POOL_CACHE_BYTES or `poolCacheBytes`). */
  limitBytes: number;
  /** 2 MiB slabs that serve allocations of 64 KiB or less (one slot each). */
  slabs: number;
  /** allocate() calls served without mapping new memory (a free slot or a cached chunk), and those that mapped. */
  hits: number;
  misses: number;
  /** Chunks that came back after their buffer was garbage-collected, and chunks unmapped from the cache. */
  returned: number;
  evicted: number;
}

/** The pinned host memory of the CUDA staging path (see README, "CUDA tensors"). */
export interface NativePinnedStats {
  /** Chunks pinned (cuMemHostAlloc) and registered so far; a warm pool stops growing it. */
  allocations: number;
  /** Chunks served from the cache. */
  hits: number;
  cachedChunks: number;
  cachedBytes: number;
  /** Chunks lent out now (to reads of this agent, or to peers' reads as staged copies). */
  inUse: number;
  limitBytes: number;
}

/** CUDA tensors through this agent. */
export interface NativeCudaStats {
  /** This UCX registers CUDA memory: the direct path (false: staging through pinned memory). */
  ucxCudaMemory: boolean;
  /** Live registrations of CUDA memory. */
  deviceRegistrations: number;
  /** Stage requests served for peers, and pinned chunks lent to them now. */
  stagings: number;
  stagedLeases: number;
  /** Endpoints to consumers that stage replies go through. */
  replyEndpoints: number;
  pinned: NativePinnedStats;
}

export interface NativeAgentStats {
  registrations: number;
  /** Pool chunks in use by live JS buffers. */
  poolChunks: number;
  endpoints: number;
  rkeys: number;
  pendingReads: number;
  /**
   * Reader workers retired because a read's requests outlived its endpoint (a producer on this
   * host killed mid-read): later reads then run on a fresh worker (see engine.h).
   */
  retiredReaders: number;
  closed: boolean;
  pool: NativePoolCacheStats;
  cuda: NativeCudaStats;
}

export interface NativeAgentOptions {
  /** Bound of the pool cache in bytes (default 1 GiB); 0 disables caching. */
  poolCacheBytes?: number;
  /** UCX_NET_DEVICES list for this agent's context (default 'lo'); a UCX_NET_DEVICES in the environment wins. */
  netDevices?: string;
}

/** One NIXL-style agent: UCP context + worker + progress thread (see native/src/agent.cc). */
export interface NativeAgent {
  readonly workerAddress: Buffer;
  readonly genRkey: Buffer;
  /** The UCX_NET_DEVICES list in force: the devices whose addresses the worker listens on. */
  readonly netDevices: string;
  /** This UCX registers CUDA memory (the direct path). */
  readonly cudaMemory: boolean;
  register(bytes: Uint8Array): NativeRegistration;
  /** Needs the addon's useCuda() first. */
  registerDevice(device: number, ptr: bigint, size: number): NativeDeviceRegistration;
  release(id: number): number;
  /** Resolves once no staging copy reads registration `id` (at once when none does). */
  whenIdle(id: number): Promise<void>;
  allocate(nbytes: number): Uint8Array;
  /** `onReleased` runs once nothing writes the destinations any more (see agent.cc). */
  read(peer: NativePeer, regions: NativeReadRegion[], timeoutMs: number, onReleased?: () => void): Promise<void>;
  stats(): NativeAgentStats;
  close(): Promise<void>;
}

export interface NativeAddon {
  Agent: new (name: string, options?: NativeAgentOptions) => NativeAgent;
  ucxVersion(): string;
  memEvents(): string | undefined;
  /** Adopt @tensorwire/cuda's driver table (cudaHostApi()); process-wide. */
  useCuda(table: object): void;
}

/** The fix printed whenever the addon cannot be loaded. */
export const NIXL_FIX = 'apt-get install libucx-dev, then npm run build:native -w @tensorwire/nixl';

/** The addon or libucx is missing. `code` is 'NIXL_ADDON_MISSING'. */
export class NixlUnavailableError extends NixlError {
  constructor(
    readonly detail: string,
    readonly fix: string = NIXL_FIX,
  ) {
    super('NIXL_ADDON_MISSING', `the nixl transport is not available: ${detail}. Fix: ${fix}`);
  }
}

/** Root of this package (the folder holding package.json), from dist/ or src/. */
export const PACKAGE_ROOT = path.resolve(__dirname, '..');

/** Where cmake-js puts the addon (`npm run build:native`); TENSORWIRE_NIXL_ADDON loads another build. */
export const ADDON_PATH = path.join(PACKAGE_ROOT, 'native', 'build', 'Release', 'tensorwire_nixl.node');

const loadAddonOnce = nativeAddonLoader<NativeAddon, NixlUnavailableError>({
  file: ADDON_PATH,
  overrideEnv: 'TENSORWIRE_NIXL_ADDON',
  library: { pattern: /libuc[pst]|libucm/, name: 'libucx' },
  unavailable: (detail) => new NixlUnavailableError(detail),
});

/** Load the addon once; throws {@link NixlUnavailableError} with an actionable message. */
export function loadNative(): NativeAddon {
  // Before libucx loads (see the top of this file): off unless the user chose otherwise.
  if (process.env.UCX_MEM_EVENTS === undefined) process.env.UCX_MEM_EVENTS = 'no';
  return loadAddonOnce();
}
