/**
 * `@actor` and `@method()` in the experimentalDecorators style (this project's setting), bare
 * `@actor` included. The standard (TC39) style is tested by test/standard-decorators/, a
 * project compiled without experimentalDecorators.
 */
import test from 'ava';
import { init, shutdown, spawn, get, actorStats, actor, method, InvalidArgumentError } from '../index';
import { BareActor, DerivedActor } from './fixtures/bare-actors';

test.before(async () => {
  await init();
});
test.after.always(async () => {
  await shutdown();
});

test.serial('bare @actor spawns and serves calls; @method options are kept, and inherited', async (t) => {
  const a = await spawn(BareActor);
  t.is(await get(a.hello.remote('ray')), 'hello ray');
  const ref = a.make.remote(3);
  t.is(await get(a.sum.remote(ref)), 6);
  t.like(await actorStats(a), { gpuObjects: 1 }, "make() returned a GPU object of 'tcp-test'");
  const d = await spawn(DerivedActor);
  t.is(await get(d.hello.remote('ray')), 'hi ray');
  const dref = d.make.remote(2);
  t.is(await get(d.sum.remote(dref)), 4);
  t.like(await actorStats(d), { gpuObjects: 1 }, 'the subclass kept the base class method options');
});

test('decorators used in the wrong place fail with a message naming the right use', (t) => {
  // @ts-expect-error: @actor() takes an options object
  t.throws(() => actor('Worker'), { instanceOf: InvalidArgumentError, message: /@actor\(\) takes an options object/ });
  // @ts-expect-error: @method() takes an options object
  t.throws(() => method(42), { instanceOf: InvalidArgumentError, message: /@method\(\) takes an options object/ });
});
