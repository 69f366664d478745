/** Constructor arguments are typed from the class (and checked for count at run time). */
import test from 'ava';
import { init, shutdown, spawn, get, put, kill, InvalidArgumentError } from '../index';
import { Counter, Scaled } from './fixtures/actors';

test.before(async () => {
  await init();
});
test.after.always(async () => {
  await shutdown();
});

test.serial('args are typed from the constructor; refs may stand for them', async (t) => {
  const a = await spawn(Scaled, { args: [3] });
  t.is(await get(a.scale.remote(2)), 6);
  const b = await spawn(Scaled, { args: [put(4), 'four'], name: 'four' });
  t.is(await get(b.scale.remote(2)), 8);
  t.is(await get(b.name.remote()), 'four');
  await kill(a);
  await kill(b);
});

test.serial('missing constructor arguments fail at spawn, at compile time and at run time', async (t) => {
  // @ts-expect-error: Scaled's constructor needs its factor
  const e1 = await t.throwsAsync(spawn(Scaled), { instanceOf: InvalidArgumentError });
  t.regex(e1!.message, /spawn\(Scaled\): its constructor takes 1 argument\(s\) but 0 were given; pass them as spawn\(Scaled, \{ args: \[\.\.\.\] \}\)/);
  // @ts-expect-error: options without args
  await t.throwsAsync(spawn(Scaled, { name: 'no-args' }), { instanceOf: InvalidArgumentError });
  // @ts-expect-error: args must be a list
  await t.throwsAsync(spawn(Scaled, { args: 3 }), { instanceOf: InvalidArgumentError, message: /args must be the list of constructor arguments/ });
});

/** Never called: the compiler checks these lines (an unused @ts-expect-error fails the build). */
export async function compileTimeChecks(): Promise<void> {
  await spawn(Counter);
  await spawn(Counter, { args: [1] });
  await spawn(Counter, { name: 'c' });
  // @ts-expect-error: a string where the constructor takes a number
  await spawn(Counter, { args: ['x'] });
  // @ts-expect-error: a string where the constructor takes a number
  await spawn(Scaled, { args: ['x'] });
  // @ts-expect-error: too many arguments
  await spawn(Scaled, { args: [1, 'a', 2] });
  const handle = await spawn(Scaled, { args: [1] });
  // @ts-expect-error: the handle is typed from the class: Scaled has no inc()
  handle.inc.remote();
}

test('the compile-time checks of spawn arguments are part of the build', (t) => {
  t.is(typeof compileTimeChecks, 'function');
});
