/** The caching allocator of one device against a fake driver: classes, splitting, merging, emptyCache, OOM. */
import test from 'ava';
import { DeviceAllocator, type AllocatorDriver } from './device-allocator';
import { addressOf } from './blocks';
import { roundSize, segmentSize, LARGE_SEGMENT, SMALL_SEGMENT } from './size-classes';
import { CudaOutOfMemoryError } from '../errors';

const MiB = 2 ** 20;

function fakeDriver(capacity = 1024 * MiB): AllocatorDriver & { live: Map<bigint, number>; calls: { alloc: number; free: number } } {
  const live = new Map<bigint, number>();
  let next = 0x10000000n;
  const calls = { alloc: 0, free: 0 };
  return {
    live,
    calls,
    memAlloc(_device, bytes) {
      calls.alloc++;
      const used = [...live.values()].reduce((a, b) => a + b, 0);
      if (used + bytes > capacity) throw Object.assign(new Error('out of memory'), { code: 'CUDA_ERROR_OUT_OF_MEMORY' });
      const p = next;
      next += BigInt(bytes) + 0x200000n;
      live.set(p, bytes);
      return p;
    },
    memFree(_device, ptr) {
      calls.free++;
      if (!live.delete(ptr)) throw new Error(`free of unknown 0x${ptr.toString(16)}`);
    },
    memGetInfo() {
      const used = [...live.values()].reduce((a, b) => a + b, 0);
      return { freeBytes: capacity - used, totalBytes: capacity };
    },
  };
}

test('size classes: 512-byte steps up to 1 MiB, then 8 classes per power of two', (t) => {
  t.is(roundSize(1), 512);
  t.is(roundSize(512), 512);
  t.is(roundSize(513), 1024);
  t.is(roundSize(MiB), MiB);
  t.is(roundSize(MiB + 1), MiB + MiB / 8);
  t.is(roundSize(3 * MiB), 3 * MiB);
  t.is(roundSize(100 * MiB + 1), 104 * MiB);
  t.is(segmentSize(512), SMALL_SEGMENT);
  t.is(segmentSize(5 * MiB), LARGE_SEGMENT);
  t.is(segmentSize(101 * MiB), 102 * MiB);
});

test('small blocks share one 2 MiB segment; a freed block is reused for its class', (t) => {
  const d = fakeDriver();
  const a = new DeviceAllocator(0, d);
  const x = a.allocate(1000);
  const y = a.allocate(3000);
  t.is(x.segment, y.segment);
  t.is(addressOf(y) - addressOf(x), 1024n);
  t.is(d.calls.alloc, 1);
  a.free(x);
  const z = a.allocate(1024); // same class as 1000
  t.is(addressOf(z), addressOf(x));
  t.like(a.stats(), { allocations: 3, cacheHits: 2, driverAllocations: 1, activeBlocks: 2, allocatedBytes: 1024 + 3072, reservedBytes: SMALL_SEGMENT });
});

test('free neighbours merge back, so emptyCache can give whole segments back', (t) => {
  const d = fakeDriver();
  const a = new DeviceAllocator(0, d);
  const blocks = [a.allocate(512), a.allocate(512), a.allocate(512)];
  a.free(blocks[1]!);
  a.free(blocks[0]!);
  a.emptyCache();
  t.is(d.calls.free, 0, 'the segment still holds a tensor');
  a.free(blocks[2]!);
  t.like(a.stats(), { cachedBlocks: 1, activeBlocks: 0, allocatedBytes: 0 });
  a.emptyCache();
  t.is(d.calls.free, 1);
  t.is(d.live.size, 0);
  t.like(a.stats(), { reservedBytes: 0, segments: 0, cachedBlocks: 0, driverFrees: 1, peakReservedBytes: SMALL_SEGMENT });
});

test('large requests: mid sizes share 20 MiB segments, big ones get their own; peaks and reset', (t) => {
  const d = fakeDriver();
  const a = new DeviceAllocator(0, d);
  const m1 = a.allocate(3 * MiB);
  const m2 = a.allocate(3 * MiB);
  t.is(m1.segment, m2.segment);
  t.is(m1.segment.size, LARGE_SEGMENT);
  const big = a.allocate(50 * MiB);
  t.is(big.segment.size, 52 * MiB);
  t.is(a.stats().peakAllocatedBytes, 6 * MiB + 52 * MiB);
  a.free(big);
  a.resetPeak();
  t.is(a.stats().peakAllocatedBytes, 6 * MiB);
  const again = a.allocate(49 * MiB); // a smaller request of the same class reuses the block
  t.is(addressOf(again), addressOf(big));
  t.is(d.calls.alloc, 2);
});

test('a full device: the cache is emptied and the allocation retried; then CudaOutOfMemoryError', (t) => {
  const d = fakeDriver(64 * MiB);
  const a = new DeviceAllocator(0, d);
  const x = a.allocate(40 * MiB);
  a.free(x); // cached, still reserved
  const y = a.allocate(50 * MiB); // does not fit next to the cached 40 MiB: cache emptied, retried
  t.is(a.stats().outOfMemoryRetries, 1);
  t.is(d.calls.free, 1);
  const err = t.throws(() => a.allocate(30 * MiB), { instanceOf: CudaOutOfMemoryError });
  t.is(err!.code, 'CUDA_ERROR_OUT_OF_MEMORY');
  t.regex(err!.message, /^CUDA out of memory on cuda:0: tried to allocate 30\.00 MiB; 52\.00 MiB is in tensors, 52\.00 MiB is reserved/);
  t.regex(err!.message, /12\.00 MiB is free of 64\.00 MiB on the device\. Fix: release tensors/);
  a.free(y);
});
