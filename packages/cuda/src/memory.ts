/**
 * The caching allocator's controls and counters, and waiting for a device's queued work.
 */
import { cudaBackend } from './backend';
import type { CudaMemoryStats } from './allocator/memory-stats';
import { requireDriver } from './driver';
import { fromNative } from './errors';
import { deviceIndexOf } from './stream';

/**
 * Memory use of `device` (e.g. 'cuda:0'), or of every device this process allocated on:
 * allocated (in tensors), reserved (held from the driver), their peaks, and the allocator's
 * counters. `actorStats(actor).deviceMemory` reports the same from inside an actor.
 *
 * @example
 * ```ts
 * const [s] = memoryStats('cuda:0');
 * console.log(s.allocatedBytes, s.reservedBytes, s.peakAllocatedBytes);
 * ```
 */
export function memoryStats(device?: number | string): CudaMemoryStats[] {
  return cudaBackend.allocator.stats(device === undefined ? undefined : deviceIndexOf(device, 'memoryStats'));
}

/**
 * Gives the cached blocks that hold no tensor back to the driver (cuMemFree), on `device` or on
 * every device used: other processes can then use that memory. Tensors keep their memory.
 *
 * @example
 * ```ts
 * big.release();
 * emptyCache('cuda:0'); // memoryStats('cuda:0')[0].reservedBytes drops
 * ```
 */
export function emptyCache(device?: number | string): void {
  cudaBackend.allocator.emptyCache(device === undefined ? undefined : deviceIndexOf(device, 'emptyCache'));
}

/**
 * Restarts the peaks of memoryStats() from the current use.
 *
 * @example
 * ```ts
 * resetPeakMemoryStats(0);
 * await step();
 * console.log(memoryStats(0)[0].peakAllocatedBytes); // the step's peak
 * ```
 */
export function resetPeakMemoryStats(device?: number | string): void {
  cudaBackend.allocator.resetPeak(device === undefined ? undefined : deviceIndexOf(device, 'resetPeakMemoryStats'));
}

/**
 * Resolves when the work queued on `device`'s default stream so far has run (off the JavaScript thread).
 *
 * @example
 * ```ts
 * await synchronize('cuda:0');
 * ```
 */
export async function synchronize(device: number | string = 0): Promise<void> {
  const index = deviceIndexOf(device, 'synchronize');
  const b = requireDriver();
  try {
    await b.synchronize(index);
  } catch (err) {
    throw fromNative(err, `synchronizing cuda:${index}`);
  }
}
