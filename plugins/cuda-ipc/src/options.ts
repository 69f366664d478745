/** Options of the cuda-ipc transport (`init({ transportOptions: { 'cuda-ipc': {...} } })`). */
import { CudaIpcError } from './errors';

/** What `transportOptions['cuda-ipc']` may hold. */
export interface CudaIpcTransportOptions {
  /**
   * How many other processes' allocations a consumer keeps open (cuIpcOpenMemHandle is slow, so
   * an opened allocation serves every later read of it); the least recently used one is closed
   * beyond this. Default: env TENSORWIRE_CUDA_IPC_HANDLE_CACHE, else 64.
   */
  readonly handleCacheSize?: number;
  /**
   * How long (ms) a consumer keeps an allocation open after the registrations it was read for
   * were released, for the producer's next tensors in the same memory (the caching allocator
   * reuses it). An open allocation keeps the producer's memory from going back to the driver.
   * Default 2000.
   */
  readonly idleCloseMs?: number;
  /** Bytes staged at a time when a read crosses two devices that cannot access each other. Default 64 MiB. */
  readonly stagingChunkBytes?: number;
  /**
   * How often (ms) a consumer checks that the producers whose allocations it keeps open still
   * run (it closes a dead one's at once), and that a producer is alive while a read waits for it.
   * Default 500.
   */
  readonly livenessIntervalMs?: number;
}

export const DEFAULT_HANDLE_CACHE_SIZE = 64;
export const DEFAULT_IDLE_CLOSE_MS = 2000;
export const DEFAULT_STAGING_CHUNK_BYTES = 64 * 2 ** 20;
export const DEFAULT_LIVENESS_INTERVAL_MS = 500;

/** The options with their defaults, checked. */
export interface ResolvedOptions {
  readonly handleCacheSize: number;
  readonly idleCloseMs: number;
  readonly stagingChunkBytes: number;
  readonly livenessIntervalMs: number;
}

function positive(name: string, value: unknown, min: number): number {
  const n = typeof value === 'string' && value !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min) {
    throw new CudaIpcError('ERR_OUT_OF_RANGE', `cuda-ipc: ${name} must be a number >= ${min}, got ${String(value)}`);
  }
  return Math.floor(n);
}

/** Options from `transportOptions['cuda-ipc']` (untyped there), the environment and the defaults. */
export function resolveOptions(options: Readonly<Record<string, unknown>> = {}, env = process.env): ResolvedOptions {
  const fromEnv = env.TENSORWIRE_CUDA_IPC_HANDLE_CACHE;
  return {
    handleCacheSize: positive('handleCacheSize', options.handleCacheSize ?? (fromEnv || DEFAULT_HANDLE_CACHE_SIZE), 1),
    idleCloseMs: positive('idleCloseMs', options.idleCloseMs ?? DEFAULT_IDLE_CLOSE_MS, 0),
    stagingChunkBytes: positive('stagingChunkBytes', options.stagingChunkBytes ?? DEFAULT_STAGING_CHUNK_BYTES, 1),
    livenessIntervalMs: positive('livenessIntervalMs', options.livenessIntervalMs ?? DEFAULT_LIVENESS_INTERVAL_MS, 10),
  };
}
