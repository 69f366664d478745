/** What the caching allocator reports for one device (`memoryStats()`, and `actorStats().deviceMemory`). */
import type { DeviceMemoryStats } from '@tensorwire/core';

/**
 * Core's DeviceMemoryStats (allocated, reserved and their peaks) plus the allocator's counters.
 * `reservedBytes - allocatedBytes` is cached: free for the next tensors of this process, not for
 * other processes (emptyCache() gives it back).
 */
export interface CudaMemoryStats extends DeviceMemoryStats {
  /** Blocks in tensors now. */
  readonly activeBlocks: number;
  /** Free blocks kept for reuse. */
  readonly cachedBlocks: number;
  /** Regions held from the driver (each one cuMemAlloc). */
  readonly segments: number;
  /** Allocation requests served. */
  readonly allocations: number;
  /** Of those, served from the cache without a cuMemAlloc. */
  readonly cacheHits: number;
  /** cuMemAlloc calls made. */
  readonly driverAllocations: number;
  /** cuMemFree calls made (emptyCache, or an out-of-memory retry). */
  readonly driverFrees: number;
  /** Times a full device made the allocator empty its cache and retry. */
  readonly outOfMemoryRetries: number;
}
