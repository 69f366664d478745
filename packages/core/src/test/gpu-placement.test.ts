/** spawn's numGpus: actors see their GPUs through CUDA_VISIBLE_DEVICES; over-subscription is refused. */
import test from 'ava';
import { init, shutdown, spawn, kill, actorStats, InvalidArgumentError, RuntimeStateError } from '../index';
import { Counter } from './fixtures/actors';

test.before(async () => {
  await init({ numGpus: 2 }); // no device backend here: the machine's GPUs are declared
});
test.after.always(async () => {
  await shutdown();
});

test.serial('each actor sees its own GPUs; a full machine refuses; a killed actor gives them back', async (t) => {
  const a = await spawn(Counter, { numGpus: 1 });
  const b = await spawn(Counter, { numGpus: 0.5 });
  const c = await spawn(Counter, { numGpus: 0.5 });
  t.is((await actorStats(a)).cudaVisibleDevices, '0');
  t.is((await actorStats(b)).cudaVisibleDevices, '1');
  t.is((await actorStats(c)).cudaVisibleDevices, '1', 'two halves share GPU 1');
  const err = await t.throwsAsync(spawn(Counter, { numGpus: 1 }), { instanceOf: RuntimeStateError });
  t.regex(err!.message, /^spawn\(Counter\): numGpus: 1 cannot be placed now: GPU 0: 0 free, held by actor-1 \(1\)/);
  await t.throwsAsync(spawn(Counter, { numGpus: 3 }), { instanceOf: InvalidArgumentError, message: /more GPUs than this machine has \(2\)/ });
  await kill(a);
  const d = await spawn(Counter, { numGpus: 1 });
  t.is((await actorStats(d)).cudaVisibleDevices, '0');
  const plain = await spawn(Counter);
  t.is((await actorStats(plain)).cudaVisibleDevices, process.env.CUDA_VISIBLE_DEVICES, 'no numGpus: the driver environment');
  await Promise.all([b, c, d, plain].map((h) => kill(h)));
});

test.serial('the deprecated gpus option still works; conflicting options are refused', async (t) => {
  const pinned = await spawn(Counter, { gpus: [1] });
  t.is((await actorStats(pinned)).cudaVisibleDevices, '1');
  await kill(pinned);
  const counted = await spawn(Counter, { gpus: 2 });
  t.is((await actorStats(counted)).cudaVisibleDevices, '0,1');
  await kill(counted);
  await t.throwsAsync(spawn(Counter, { gpus: 1, numGpus: 1 }), { instanceOf: InvalidArgumentError, message: /give numGpus only/ });
  await t.throwsAsync(spawn(Counter, { numGpus: 1, env: { CUDA_VISIBLE_DEVICES: '0' } }), {
    instanceOf: InvalidArgumentError,
    message: /env\.CUDA_VISIBLE_DEVICES and numGpus both choose/,
  });
  await t.throwsAsync(spawn(Counter, { numGpus: -1 }), { instanceOf: InvalidArgumentError, message: /non-negative number/ });
});

test.serial('actorStats reports device memory ([] without a device backend)', async (t) => {
  const a = await spawn(Counter);
  t.deepEqual((await actorStats(a)).deviceMemory, []);
  await kill(a);
});
