/**
 * Transport names are checked when they must work (a call), not when a class is defined;
 * typos fail at once with a did-you-mean hint, at compile time too.
 */
import test from 'ava';
import { init, shutdown, spawn, get, actorStats, method, InvalidTransportError, Tensor, transportName } from '../index';
import { EarlyDefined } from './fixtures/late-transport-actors';

test.before(async () => {
  await init();
});
test.after.always(async () => {
  await shutdown();
});

test.serial('a class may name a transport whose package is imported after it', async (t) => {
  const a = await spawn(EarlyDefined);
  const ref = a.make.remote(3);
  t.is(await get(a.sum.remote(ref)), 3);
  t.like(await actorStats(a), { gpuObjects: 1 }, 'the result is a GPU object of the late transport');
  t.is((await get(ref)).sum(), 3);
});

test.serial('a method on a transport not registered here: the module loads and the actor spawns; calling it fails at .remote() naming the fix', async (t) => {
  const a = await spawn(EarlyDefined, { name: 'early' });
  const err = t.throws(() => a.onGpu.remote(), { instanceOf: InvalidTransportError });
  t.regex(err!.message, /^early\.onGpu\.remote\(\) \(@method of EarlyDefined\): unknown tensor transport 'nccl'\./);
  t.regex(err!.message, /Install and import its package: `npm install @tensorwire\/nccl` and `import '@tensorwire\/nccl'`\./);
  t.is(await get(a.sum.remote(Tensor.ones([2]))), 2, 'the other methods work');
});

test('a typo of a known or registered name fails at decoration, and at compile time', (t) => {
  // @ts-expect-error: 'Gloo' is not a declared transport name
  const e1 = t.throws(() => method({ tensorTransport: 'Gloo' }), { instanceOf: InvalidTransportError });
  t.regex(e1!.message, /did you mean 'gloo'\?/);
  t.regex(e1!.message, /npm install @tensorwire\/gloo/, 'the hint names the package of the intended name');
  // @ts-expect-error: 'late_test' is not a declared transport name
  const e2 = t.throws(() => method({ tensorTransport: 'late_test' }), { instanceOf: InvalidTransportError });
  t.regex(e2!.message, /did you mean 'late-test'\?/);
  t.notRegex(e2!.message, /npm install/);
  // @ts-expect-error: a number is no transport name
  t.throws(() => method({ tensorTransport: 1 }), { message: /tensorTransport must be a transport name string/ });
});

test('transportName() types a name known only at run time, after checking it', (t) => {
  const fromConfig: string = ['late', 'test'].join('-');
  const name = transportName(fromConfig);
  t.notThrows(() => method({ tensorTransport: name }));
  t.is(transportName('object-store'), 'object-store');
  t.throws(() => transportName('nope'), { instanceOf: InvalidTransportError, message: /^transportName\(\): unknown tensor transport 'nope'/ });
});
