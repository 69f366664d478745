/** The caching allocator against the mock driver: reuse without cuMemAlloc, emptyCache, stats, OOM. */
import { mockOnly, usingMock } from './test/driver-under-test';
import test from 'ava';
import { Tensor } from '@tensorwire/core';
import { CudaOutOfMemoryError, emptyCache, memoryStats, resetPeakMemoryStats } from './index';
import { allocationOf } from './internal';
import { mock } from './testing';

const MiB = 2 ** 20;

function stats(device = 0) {
  return memoryStats(device)[0]!;
}

test.serial('tensors reuse cached blocks: no cuMemAlloc or cuMemFree per tensor', (t) => {
  const x = Tensor.zeros([256], { device: 'cuda:0' }); // 1 KiB: small pool
  const before = stats();
  const driverCalls = usingMock ? mock.stats().calls : undefined;
  const ptr = x.devicePtr;
  x.release();
  for (let i = 0; i < 100; i++) {
    const y = Tensor.empty([250], 'float32', { device: 'cuda:0' }); // 1000 bytes: the same size class
    t.is(y.devicePtr, ptr);
    y.release();
  }
  t.like(stats(), { driverAllocations: before.driverAllocations, driverFrees: before.driverFrees, cacheHits: before.cacheHits + 100 });
  if (driverCalls) {
    const calls = mock.stats().calls;
    t.is(calls.cuMemAlloc_v2 ?? 0, driverCalls.cuMemAlloc_v2 ?? 0, 'the driver saw no cuMemAlloc');
    t.is(calls.cuMemFree_v2 ?? 0, 0, 'nor a cuMemFree');
  }
});

test.serial('small tensors are blocks of one allocation (what CUDA IPC needs base and offset for)', (t) => {
  const a = Tensor.zeros([128], { device: 'cuda:0' });
  const b = Tensor.zeros([128], { device: 'cuda:0' });
  const ra = allocationOf(a.deviceBuffer!);
  const rb = allocationOf(b.deviceBuffer!);
  t.is(ra.base, rb.base);
  t.is(ra.size, 2 * MiB);
  t.not(ra.offset, rb.offset);
  t.is(a.devicePtr, ra.base + BigInt(ra.offset));
  a.release();
  b.release();
});

test.serial('stats: allocated, reserved and their peaks; emptyCache gives memory back to the driver', (t) => {
  emptyCache(0);
  resetPeakMemoryStats(0);
  const base = stats();
  t.is(base.allocatedBytes, 0);
  t.is(base.reservedBytes, 0);
  const big = Tensor.empty([30 * MiB], 'uint8', { device: 'cuda:0' });
  t.is(stats().allocatedBytes, 30 * MiB);
  t.is(stats().reservedBytes, 30 * MiB);
  big.release();
  t.like(stats(), { allocatedBytes: 0, reservedBytes: 30 * MiB, peakAllocatedBytes: 30 * MiB });
  if (usingMock) t.is(mock.stats().allocatedBytes, 30 * MiB, 'still held from the driver: cached');
  emptyCache('cuda:0');
  t.like(stats(), { reservedBytes: 0, peakReservedBytes: 30 * MiB });
  if (usingMock) t.is(mock.stats().allocations, 0);
  resetPeakMemoryStats();
  t.like(stats(), { peakAllocatedBytes: 0, peakReservedBytes: 0 });
});

mockOnly('out of device memory: the cache is emptied and retried, then CudaOutOfMemoryError', (t) => {
  emptyCache();
  mock.setMemory('100M');
  t.teardown(() => mock.setMemory('16G'));
  const a = Tensor.empty([60 * MiB], 'uint8', { device: 'cuda:1' });
  a.release();
  const b = Tensor.empty([70 * MiB], 'uint8', { device: 'cuda:1' }); // only fits once the cached 60 MiB is gone
  t.is(stats(1).outOfMemoryRetries, 1);
  const err = t.throws(() => Tensor.zeros([40 * MiB], { device: 'cuda:1', dtype: 'uint8' }), { instanceOf: CudaOutOfMemoryError });
  t.regex(err!.message, /^CUDA out of memory on cuda:1: tried to allocate 40\.00 MiB; 72\.00 MiB is in tensors/);
  b.release();
  mock.fail('cuMemAlloc_v2', 'CUDA_ERROR_OUT_OF_MEMORY', { count: 2 });
  emptyCache(1);
  t.throws(() => Tensor.zeros([4], { device: 'cuda:1' }), { instanceOf: CudaOutOfMemoryError, message: /tried to allocate 0\.00 MiB/ });
  t.notThrows(() => Tensor.zeros([4], { device: 'cuda:1' }).release(), 'injected failures used up');
});

mockOnly('other driver failures are CudaErrors with the driver code and message', (t) => {
  mock.fail('cuMemAlloc_v2', 'CUDA_ERROR_ILLEGAL_ADDRESS', { count: 1 });
  emptyCache();
  const err = t.throws(() => Tensor.zeros([4], { device: 'cuda:0' }));
  t.is(err!.name, 'CudaError');
  t.is((err as { code?: string }).code, 'CUDA_ERROR_ILLEGAL_ADDRESS');
  t.regex(err!.message, /allocating 16 bytes on cuda:0: cuMemAlloc failed: CUDA_ERROR_ILLEGAL_ADDRESS \(an illegal memory access was encountered\)/);
});
