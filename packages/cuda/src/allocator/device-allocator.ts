/**
 * The caching allocator of one device. Freed blocks stay cached in their pool and serve later
 * requests of their size class (best fit, splitting a larger block and merging free neighbours
 * back), so tensors come and go without a cuMemAlloc/cuMemFree each. Memory returns to the
 * driver only on emptyCache(), or when a cuMemAlloc runs out of memory (the cache is emptied and
 * the allocation retried once).
 */
import { FreeList, type Block, type Segment } from './blocks';
import type { CudaMemoryStats } from './memory-stats';
import { poolOf, roundSize, segmentSize, shouldSplit, type Pool } from './size-classes';
import { CudaOutOfMemoryError } from '../errors';

/** What the allocator needs from the driver (the addon, or a fake in tests). */
export interface AllocatorDriver {
  /** cuMemAlloc; throws an Error with code CUDA_ERROR_OUT_OF_MEMORY when the device is full. */
  memAlloc(device: number, bytes: number): bigint;
  memFree(device: number, ptr: bigint): void;
  memGetInfo(device: number): { freeBytes: number; totalBytes: number };
}

function isOutOfMemory(err: unknown): boolean {
  return (err as { code?: unknown })?.code === 'CUDA_ERROR_OUT_OF_MEMORY';
}

export class DeviceAllocator {
  private readonly pools: Record<Pool, FreeList> = { small: new FreeList(), large: new FreeList() };
  private allocated = 0;
  private reserved = 0;
  private peakAllocated = 0;
  private peakReserved = 0;
  private activeBlocks = 0;
  private segments = 0;
  private allocations = 0;
  private cacheHits = 0;
  private driverAllocations = 0;
  private driverFrees = 0;
  private outOfMemoryRetries = 0;

  constructor(readonly device: number, private readonly driver: AllocatorDriver) {}

  /** A block of at least `nbytes` (> 0) bytes. Throws CudaOutOfMemoryError when the device is full. */
  allocate(nbytes: number): Block {
    const size = roundSize(nbytes);
    const pool = poolOf(size);
    let block = this.pools[pool].takeBestFit(size);
    if (block) this.cacheHits++;
    else block = this.newSegment(size, pool, nbytes);
    if (shouldSplit(pool, block.size, size)) {
      const rest: Block = { segment: block.segment, offset: block.offset + size, size: block.size - size, free: true, prev: block, next: block.next };
      if (block.next) block.next.prev = rest;
      block.next = rest;
      block.size = size;
      this.pools[pool].insert(rest);
    }
    block.free = false;
    this.allocations++;
    this.activeBlocks++;
    this.allocated += block.size;
    this.peakAllocated = Math.max(this.peakAllocated, this.allocated);
    return block;
  }

  /** Returns `block` to the cache, merged with free neighbours. */
  free(block: Block): void {
    if (block.free) return;
    block.free = true;
    this.activeBlocks--;
    this.allocated -= block.size;
    const list = this.pools[block.segment.pool];
    for (const neighbour of [block.prev, block.next]) {
      if (!neighbour?.free) continue;
      list.remove(neighbour);
      if (neighbour === block.prev) {
        neighbour.size += block.size;
        neighbour.next = block.next;
        if (block.next) block.next.prev = neighbour;
        block = neighbour;
      } else {
        block.size += neighbour.size;
        block.next = neighbour.next;
        if (neighbour.next) neighbour.next.prev = block;
      }
    }
    list.insert(block);
  }

  /** Gives every cached segment that holds no tensor back to the driver (cuMemFree). */
  emptyCache(): void {
    for (const pool of ['small', 'large'] as const) {
      for (const b of this.pools[pool].takeWholeSegments()) {
        this.driver.memFree(this.device, b.segment.base);
        this.driverFrees++;
        this.segments--;
        this.reserved -= b.segment.size;
      }
    }
  }

  stats(): CudaMemoryStats {
    return {
      device: `cuda:${this.device}`,
      allocatedBytes: this.allocated,
      reservedBytes: this.reserved,
      peakAllocatedBytes: this.peakAllocated,
      peakReservedBytes: this.peakReserved,
      activeBlocks: this.activeBlocks,
      cachedBlocks: this.pools.small.length + this.pools.large.length,
      segments: this.segments,
      allocations: this.allocations,
      cacheHits: this.cacheHits,
      driverAllocations: this.driverAllocations,
      driverFrees: this.driverFrees,
      outOfMemoryRetries: this.outOfMemoryRetries,
    };
  }

  /** Peaks restart from the current use. */
  resetPeak(): void {
    this.peakAllocated = this.allocated;
    this.peakReserved = this.reserved;
  }

  /** A new segment for a request of class `size`, as one free block (emptying the cache once when the device is full). */
  private newSegment(size: number, pool: Pool, requested: number): Block {
    const bytes = segmentSize(size);
    let base: bigint;
    try {
      base = this.driver.memAlloc(this.device, bytes);
    } catch (err) {
      if (!isOutOfMemory(err)) throw err;
      // Cached blocks may be what fills the device: give them back and try once more.
      this.outOfMemoryRetries++;
      this.emptyCache();
      try {
        base = this.driver.memAlloc(this.device, bytes);
      } catch (again) {
        if (!isOutOfMemory(again)) throw again;
        throw this.outOfMemory(requested, again);
      }
    }
    this.driverAllocations++;
    this.segments++;
    this.reserved += bytes;
    this.peakReserved = Math.max(this.peakReserved, this.reserved);
    const segment: Segment = { base, size: bytes, pool };
    return { segment, offset: 0, size: bytes, free: true, prev: undefined, next: undefined };
  }

  private outOfMemory(requested: number, cause: unknown): CudaOutOfMemoryError {
    let info: { freeBytes?: number; totalBytes?: number } = {};
    try {
      info = this.driver.memGetInfo(this.device);
    } catch {
      // the message says '?' for what the driver cannot tell
    }
    return new CudaOutOfMemoryError(
      { device: `cuda:${this.device}`, requestedBytes: requested, allocatedBytes: this.allocated, reservedBytes: this.reserved, ...info },
      { cause },
    );
  }
}

