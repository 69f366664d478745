/**
 * CUDA tensors with actors (all on the mock driver): GPU placement with numGpus, allocator
 * statistics in actorStats, GPU objects of CUDA tensors over the existing transports (gloo
 * refuses them with its typed errors; get() through the object store copies to the host), and
 * an actor that stays responsive during a 1 GiB copy.
 */
import { mockOnly } from './test/driver-under-test';
import test from 'ava';
import {
  actorStats, createCollectiveGroup, destroyAllCollectiveGroups, get, init, InvalidArgumentError, kill, RuntimeStateError, shutdown, spawn,
  Tensor, TaskError,
} from '@tensorwire/core';
import { CudaWorker } from './test/fixtures/cuda-actors';

test.before(async () => {
  await init(); // the GPUs of the machine: the CUDA backend's count in this driver (2 mock devices)
});
test.after.always(async () => {
  await shutdown();
});

mockOnly('numGpus: each actor sees its GPU through CUDA_VISIBLE_DEVICES; over-subscription is refused', async (t) => {
  const a = await spawn(CudaWorker, { numGpus: 1 });
  const b = await spawn(CudaWorker, { numGpus: 0.5 });
  const c = await spawn(CudaWorker, { numGpus: 0.5 });
  t.deepEqual(await get(a.devices.remote()), { visible: '0', names: ['tensorwire mock GPU 0'] });
  t.deepEqual(await get(b.devices.remote()), { visible: '1', names: ['tensorwire mock GPU 1'] }, "b's cuda:0 is the machine's GPU 1");
  t.deepEqual(await get(c.devices.remote()), { visible: '1', names: ['tensorwire mock GPU 1'] });
  const err = await t.throwsAsync(spawn(CudaWorker, { numGpus: 0.75 }), { instanceOf: RuntimeStateError });
  t.regex(err!.message, /GPU 0: 0 free, held by actor-1 \(1\); GPU 1: 0 free, held by actor-2 \(0\.5\), actor-3 \(0\.5\)/);
  await t.throwsAsync(spawn(CudaWorker, { numGpus: 4 }), { instanceOf: InvalidArgumentError, message: /more GPUs than this machine has \(2\)/ });
  await kill(b);
  const d = await spawn(CudaWorker, { numGpus: 0.25 });
  t.is((await get(d.devices.remote())).visible, '1');
  await Promise.all([a, c, d].map((h) => kill(h)));
});

test.serial("actorStats reports the actor's allocator: allocated, reserved, peaks", async (t) => {
  const a = await spawn(CudaWorker, { numGpus: 1 });
  t.deepEqual((await actorStats(a)).deviceMemory, []);
  await get(a.allocate.remote(4, 3 << 20));
  const [m] = (await actorStats(a)).deviceMemory;
  t.like(m, { device: 'cuda:0', allocatedBytes: 4 * (3 << 20), reservedBytes: 20 << 20, activeBlocks: 4 });
  await get(a.releaseAll.remote());
  const [after] = (await actorStats(a)).deviceMemory;
  t.like(after, { allocatedBytes: 0, reservedBytes: 20 << 20, peakAllocatedBytes: 4 * (3 << 20) });
  t.is((await actorStats(a)).cudaVisibleDevices, '0');
  await kill(a);
});

test.serial('gloo refuses CUDA tensors with typed errors naming the fix', async (t) => {
  const a = await spawn(CudaWorker);
  const b = await spawn(CudaWorker);
  const err = await t.throwsAsync(get(a.onGloo.remote()), { instanceOf: InvalidArgumentError });
  t.regex(err!.message, /transport gloo does not move cuda:0 tensors \(it supports cpu tensors\)\. Fix: return CPU tensors from the method \(tensor\.cpu\(\), or await tensor\.cpuAsync\(\)\)/);
  await createCollectiveGroup([a, b], { backend: 'gloo' });
  const reduce = await t.throwsAsync(get(a.reduceOnDevice.remote()), { instanceOf: TaskError });
  const cause = reduce!.cause as { name?: string; code?: string; message?: string };
  t.is(cause.name, 'GlooError');
  t.regex(reduce!.message, /the gloo transport moves CPU tensors only, got a tensor on 'cuda:0'/);
  await destroyAllCollectiveGroups();
  await Promise.all([kill(a), kill(b)]);
});

test.serial('CUDA tensors through the object store land on the device; a GPU object stays; get() copies to the host', async (t) => {
  const a = await spawn(CudaWorker);
  const b = await spawn(CudaWorker);
  const viaStore = await get(a.arange.remote(5, 'int32'));
  t.is(viaStore.device, 'cuda:0', 'a value through the object store comes back on its device (here, the driver)');
  t.deepEqual(viaStore.toArray(), [0, 1, 2, 3, 4]);
  t.like(await get(b.describe.remote(Tensor.arange(4).cuda())), { device: 'cuda:0', sum: 6 });

  const ref = a.gpuObject.remote(10);
  const copy = await get(ref);
  t.is(copy.device, 'cpu', 'get() of a GPU object returns a CPU copy');
  t.is(copy.sum(), 45);
  const here = await get(a.describe.remote(ref));
  t.is(here.device, 'cuda:0');
  t.is(here.sum, 45);
  const again = await get(a.describe.remote(ref));
  t.is(again.ptr, here.ptr, 'passed back to its producer: the very same device memory');
  t.is((await actorStats(a)).gpuObjects, 1);
  await Promise.all([kill(a), kill(b)]);
});

mockOnly('an actor answers other calls while it copies 1 GiB to the device', async (t) => {
  const a = await spawn(CudaWorker, { maxConcurrency: 2, env: { TENSORWIRE_MOCK_CUDA_DELAY_US: '500000' } });
  const copying = get(a.bigCopy.remote(2 ** 30));
  await new Promise((r) => setTimeout(r, 100)); // the copy has started
  const pinged = await get(a.ping.remote());
  const copied = await copying;
  t.true(pinged < copied, 'the ping was answered before the copy finished');
  await kill(a);
});
