/**
 * Refs may stand for any part of an argument, at run time and for the compiler: a parameter of
 * type T accepts `T | ObjectRef<T>` at any depth (arrays, objects, Maps), without casts.
 */
import test from 'ava';
import { init, shutdown, spawn, get, put, kill, Tensor, type ActorHandle, type ObjectRef } from '../index';
import { Counter } from './fixtures/actors';

test.before(async () => {
  await init();
});
test.after.always(async () => {
  await shutdown();
});

test.serial('refs nested in arrays, objects and Maps are resolved, and typed as their values', async (t) => {
  const c = await spawn(Counter);
  const ones: ObjectRef<Tensor> = put(Tensor.ones([2]));
  const two: ObjectRef<number> = c.inc.remote(2);
  t.is(await get(c.sumAll.remote([ones, Tensor.ones([3])])), 5);
  const weighed = c.weigh.remote([{ w: ones, scale: two }, { w: Tensor.ones([3]), scale: 1 }], new Map([['x', ones]]));
  t.is(await get(weighed), 2 * 2 + 3 + 2);
  t.is(await get(c.inc.remote(two)), 4, 'a top-level ref, as in Ray');
  await kill(c);
});

/** Never called: the compiler checks these lines (an unused @ts-expect-error fails the build). */
export function compileTimeChecks(c: ActorHandle<Counter>, text: ObjectRef<string>, tensor: ObjectRef<Tensor>): void {
  c.sumAll.remote([tensor, Tensor.ones([1])]);
  c.sumAll.remote(put([Tensor.ones([1])]));
  c.weigh.remote([{ w: tensor, scale: c.inc.remote() }]);
  // @ts-expect-error: a ref to a string where a number is expected
  c.inc.remote(text);
  // @ts-expect-error: a nested ref of the wrong type
  c.sumAll.remote([text]);
  // @ts-expect-error: a wrong plain value inside an object
  c.weigh.remote([{ w: tensor, scale: 'x' }]);
  // @ts-expect-error: a ref to the whole list where one element is expected
  c.sumAll.remote([put([Tensor.ones([1])])]);
  // @ts-expect-error: the actor has no such method
  c.nope.remote();
}

test('the compile-time checks of nested refs are part of the build', (t) => {
  t.is(typeof compileTimeChecks, 'function');
});
