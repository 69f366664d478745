/**
 * Ids are unique across runtimes of one process, refs and handles from a runtime that was shut
 * down fail clearly, and numeric options are validated at the API boundary (issue:
 * reliability, defects 5, 8 and 9).
 */
import test from 'ava';
import {
  init, shutdown, spawn, get, put, wait, createCollectiveGroup, Tensor,
  InvalidArgumentError, ObjectLostError, TensorwireError,
} from '../index';
import { Counter } from './fixtures/actors';

test.afterEach.always(async () => {
  await shutdown();
});

test.serial('a ref and a handle kept across shutdown() and init() fail clearly, never alias', async (t) => {
  await init();
  const a = await spawn(Counter);
  const oldRef = put('first runtime');
  const oldResult = a.inc.remote(1);
  t.is(await get(oldResult), 1);
  await shutdown();

  await init();
  const newRef = put('second runtime');
  const b = await spawn(Counter);
  t.not(newRef.id, oldRef.id);
  t.not(a.actorId, b.actorId);
  await t.throwsAsync(get(oldRef), { instanceOf: ObjectLostError, message: /another tensorwire runtime/ });
  await t.throwsAsync(get(oldResult), { instanceOf: ObjectLostError, message: /another tensorwire runtime/ });
  t.throws(() => a.inc.remote(1), { instanceOf: InvalidArgumentError, message: /another tensorwire runtime/ });
  t.throws(() => b.echo.remote(oldRef), { instanceOf: ObjectLostError });
  t.is(await get(newRef), 'second runtime');
  t.is(await get(b.inc.remote(2)), 2);
});

test.serial('ids carry a random runtime id', async (t) => {
  await init();
  const first = put(1).id;
  await shutdown();
  await init();
  const second = put(1).id;
  t.regex(first, /^o\d+@[\w-]{12}$/);
  t.not(first.split('@')[1], second.split('@')[1]);
});

test.serial('init validates its numbers: 0, -1, NaN, strings and huge values fail at once', async (t) => {
  for (const bad of [0, -1, NaN, Infinity, 2 ** 31, '10' as unknown as number]) {
    await t.throwsAsync(init({ transferTimeoutMs: bad }), { instanceOf: InvalidArgumentError, message: /transferTimeoutMs must be a number of milliseconds/ });
    await t.throwsAsync(init({ actorStartTimeoutMs: bad }), { instanceOf: InvalidArgumentError, message: /actorStartTimeoutMs/ });
  }
  await t.throwsAsync(init({ inlineGpuObjectBytes: -1 }), { instanceOf: InvalidArgumentError, message: /inlineGpuObjectBytes/ });
  await t.throwsAsync(init({ inlineGpuObjectBytes: 1.5 }), { instanceOf: InvalidArgumentError });
  await t.throwsAsync(init({ objectStore: 'plasma' as never }), { instanceOf: InvalidArgumentError, message: /objectStore must be one of 'auto', 'shared-memory', 'memory', got "plasma"/ });
  await init({ transferTimeoutMs: 1000 }); // a good value still works after the bad ones
  t.pass();
});

test.serial('get, wait, createCollectiveGroup and spawn validate their numbers', async (t) => {
  await init();
  const ref = put(1);
  for (const bad of [-5, NaN, Infinity, 'x' as unknown as number]) {
    await t.throwsAsync(get(ref, { timeoutMs: bad }), { instanceOf: InvalidArgumentError, message: /get: timeoutMs/ });
    await t.throwsAsync(wait([ref], { timeoutMs: bad }), { instanceOf: InvalidArgumentError, message: /wait: timeoutMs/ });
  }
  t.is(await get(ref, { timeoutMs: 0 }), 1, '0 is a valid get timeout for a ready object');
  const a = await spawn(Counter);
  const b = await spawn(Counter);
  await t.throwsAsync(createCollectiveGroup([a, b], { backend: 'tcp-test', timeoutMs: 0 }), { instanceOf: InvalidArgumentError, message: /timeoutMs/ });
  await t.throwsAsync(spawn(Counter, { gpus: -1 }), { instanceOf: InvalidArgumentError, message: /gpus/ });
});

test.serial('init with a missing transport module fails typed, naming the module and the fix', async (t) => {
  const err = await t.throwsAsync(init({ transports: ['@tensorwire/no-such-transport'] }), { instanceOf: InvalidArgumentError });
  t.regex(err!.message, /'@tensorwire\/no-such-transport' was not found.*no package of that name is published; the project's transports are @tensorwire\/gloo, @tensorwire\/nccl, @tensorwire\/nixl/);
  t.notRegex(err!.message, /npm install/, 'no install hint for a package that does not exist');
  const typo = await t.throwsAsync(init({ transports: ['@tensorwire/Gloo'] }), { instanceOf: InvalidArgumentError });
  t.regex(typo!.message, /did you mean '@tensorwire\/gloo'\? \(`npm install @tensorwire\/gloo`\)/);
  const third = await t.throwsAsync(init({ transports: ['acme-transport'] }), { instanceOf: InvalidArgumentError });
  t.regex(third!.message, /npm install acme-transport/, "a third party's package: the name asked for");
  await t.throwsAsync(init({ transports: [42 as unknown as string] }), { instanceOf: InvalidArgumentError });
});

test.serial('Tensor constructor errors are typed', (t) => {
  t.throws(() => new Tensor(new Float32Array(6), [4]), { instanceOf: InvalidArgumentError });
  t.throws(() => Tensor.zeros([2], { dtype: 'bogus' as never }), { instanceOf: TensorwireError });
});

test.serial('an argument that cannot be decoded in the actor is reported as such, not as the method throwing', async (t) => {
  await init();
  const a = await spawn(Counter, { name: 'decoder' });
  const bogus = Tensor.zeros([2]);
  (bogus as { dtype: string }).dtype = 'bogus';
  const err = await t.throwsAsync(get(a.describe.remote(bogus)), { instanceOf: InvalidArgumentError });
  t.regex(err!.message, /decoding the arguments of decoder\.describe\(\) failed: .*bogus/);
  t.is(await get(a.inc.remote()), 1, 'the actor keeps working');
});
