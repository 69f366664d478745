/** Page-locked host memory and the driver table for other addons, through the internal API. */
import { mockOnly } from './test/driver-under-test';
import test from 'ava';
import { Tensor } from '@tensorwire/core';
import './index';
import { allocPinned, copyDeviceToHost, copyHostToDevice, cudaHostApi } from './internal';
import { mock } from './testing';
import { collectGarbage, waitFor } from './test/wait-for';

test.serial('allocPinned: page-locked memory that async copies read and write', async (t) => {
  const pinned = allocPinned(4096);
  t.is(pinned.byteLength, 4096);
  for (let i = 0; i < pinned.length; i++) pinned[i] = i & 0xff;
  const dev = Tensor.empty([4096], 'uint8', { device: 'cuda:0' });
  await copyHostToDevice({ device: 0, ptr: dev.devicePtr! }, pinned);
  const back = allocPinned(4096, 'cuda:0');
  await copyDeviceToHost(back, { device: 0, ptr: dev.devicePtr! });
  t.deepEqual(Buffer.from(back), Buffer.from(pinned));
  t.is(allocPinned(0).byteLength, 0, 'zero bytes: no driver call');
});

mockOnly('allocPinned: counted by the mock, freed with cuMemFreeHost when collected', async (t) => {
  await collectGarbage(); // earlier tests' buffers first, so that only this one is counted
  const before = mock.stats();
  (() => {
    allocPinned(1 << 20)[0] = 1; // dropped at once
    const during = mock.stats();
    t.is(during.pinnedAllocations, before.pinnedAllocations + 1);
    t.is(during.pinnedBytes, before.pinnedBytes + (1 << 20));
    t.is(during.calls.cuMemHostAlloc, (before.calls.cuMemHostAlloc ?? 0) + 1);
  })();
  await waitFor(() => {
    (globalThis as { gc?: () => void }).gc?.();
    return mock.stats().pinnedAllocations === before.pinnedAllocations;
  }, 10_000, 'the pinned buffer to be freed after collection');
  t.true((mock.stats().calls.cuMemFreeHost ?? 0) >= 1);
});

mockOnly('allocPinned: a driver failure is a CudaError with the driver code', (t) => {
  mock.fail('cuMemHostAlloc', 'CUDA_ERROR_OUT_OF_MEMORY', { count: 1 });
  const err = t.throws(() => allocPinned(64));
  t.is((err as { code?: string }).code, 'CUDA_ERROR_OUT_OF_MEMORY');
  t.regex(err!.message, /allocPinned\(64 bytes, cuda:0\)/);
});

test.serial('cudaHostApi: an External over the driver this process opened', (t) => {
  const api = cudaHostApi();
  t.is(typeof api, 'object');
  t.is(Object.keys(api).length, 0, 'opaque: an External, not a plain object');
});
