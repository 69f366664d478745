/** When device memory returns to the allocator: release(), garbage collection, after the copies that use it. */
import { mockOnly, usingMock } from './test/driver-under-test';
import test from 'ava';
import { InvalidArgumentError, RuntimeStateError, Tensor } from '@tensorwire/core';
import { deviceCount, memoryStats } from './index';
import { copyHostToDevice, requireDriver } from './internal';
import { mock } from './testing';
import { collectGarbage, waitFor } from './test/wait-for';

const allocated = (device = 0): number => memoryStats(device)[0]?.allocatedBytes ?? 0;

test.serial('release() gives the block back at once; the tensor and its views are then unusable', (t) => {
  const before = allocated();
  const x = Tensor.ones([1024], { device: 'cuda:0' });
  const view = x.reshape([32, 32]);
  t.is(allocated(), before + 4096);
  view.release();
  t.is(allocated(), before);
  t.true(x.released);
  t.throws(() => x.sum(), { instanceOf: RuntimeStateError, message: /device memory was released/ });
  t.notThrows(() => x.release(), 'idempotent');
});

test.serial('a collected tensor returns its memory (the last view keeps it alive)', async (t) => {
  const before = allocated();
  let kept: Tensor | undefined;
  (() => {
    for (let i = 0; i < 20; i++) Tensor.zeros([1 << 16], { device: 'cuda:0' }); // 256 KiB each, dropped at once
    kept = Tensor.zeros([1 << 16], { device: 'cuda:0' }).reshape([256, 256]); // only a view survives
  })();
  t.true(allocated() >= before + 21 * (1 << 18));
  await collectGarbage();
  await waitFor(() => allocated() === before + (1 << 18), 10_000, 'finalizers to return the dropped tensors');
  t.is(kept!.numel, 1 << 16);
  kept = undefined;
  await collectGarbage();
  await waitFor(() => allocated() === before, 10_000, 'the last view to be collected');
  t.pass();
});

mockOnly('release() during an async copy waits for it: the block is not reused meanwhile', async (t) => {
  const src = Tensor.arange(1 << 16, undefined, 1, { dtype: 'int32', device: 'cuda:0' });
  const ptr = src.devicePtr;
  const before = allocated();
  mock.setDelayUs(200_000); // each stream operation takes 0.2 s longer
  t.teardown(() => mock.setDelayUs(0));
  const copying = src.cpuAsync();
  src.release();
  t.is(allocated(), before, 'still in use by the copy');
  const other = Tensor.empty([1 << 16], 'int32', { device: 'cuda:0' });
  t.not(other.devicePtr, ptr, 'the block was not handed out again');
  t.is(allocated(), before + (1 << 18));
  const host = await copying;
  t.is(host.at(12345), 12345);
  t.is(allocated(), before, 'the source was given back when the copy ended');
  other.release();
  t.is(allocated(), before - (1 << 18));
});

test.serial('fromDevicePointer: memory of another library becomes a tensor without a copy, never freed by tensorwire', async (t) => {
  const driver = requireDriver();
  const ptr = driver.memAlloc(0, 4096); // what another library in the process would have allocated
  t.teardown(() => driver.memFree(0, ptr));
  await copyHostToDevice({ device: 0, ptr }, new Uint8Array(new Int32Array([0, 0, 0, 0, 10, 20, 30, 40]).buffer));
  const statsBefore = memoryStats(0)[0]!;
  const allocsBefore = usingMock ? mock.stats().allocations : 0;
  let owner: object | undefined = { name: 'the other library tensor' };
  const ownerRef = new WeakRef(owner);
  const t1 = Tensor.fromDevicePointer(ptr + 16n, [2, 2], 'int32', { device: 'cuda:0', keepAlive: owner });
  owner = undefined;
  t.is(t1.devicePtr, ptr + 16n);
  t.deepEqual(t1.toArray(), [[10, 20], [30, 40]]);
  t.is(t1.sum(), 100);
  t.is(memoryStats(0)[0]!.allocations, statsBefore.allocations, 'nothing allocated by tensorwire');
  await collectGarbage();
  t.truthy(ownerRef.deref(), 'keepAlive lives as long as the tensor');
  t1.release();
  await collectGarbage();
  await waitFor(() => ownerRef.deref() === undefined, 10_000, 'keepAlive to be dropped by release()');
  if (usingMock) t.is(mock.stats().allocations, allocsBefore, 'the memory itself was not freed');

  t.throws(() => Tensor.fromDevicePointer(0x1000n, [1], 'int32', { device: 'cuda:0' }), {
    instanceOf: InvalidArgumentError,
    message: /does not know this address as device memory/,
  });
  if (deviceCount() > 1) {
    t.throws(() => Tensor.fromDevicePointer(ptr, [1], 'int32', { device: 'cuda:1' }), { instanceOf: InvalidArgumentError, message: /the memory is on cuda:0; pass \{ device: 'cuda:0' \}/ });
  }
  t.throws(() => Tensor.fromDevicePointer(ptr + 4000n, [100], 'int32', { device: 'cuda:0' }), { instanceOf: InvalidArgumentError, message: /run past the end of its allocation/ });
});
