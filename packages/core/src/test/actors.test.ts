import test from 'ava';
import {
  init, shutdown, spawn, get, put, wait, free, kill, objectStoreStats,
  ActorDiedError, GetTimeoutError, InvalidArgumentError, TaskError, ObjectLostError, Tensor, actor,
} from '../index';
import { Counter, Failing } from './fixtures/actors';

test.before(async () => {
  await init();
});
test.after.always(async () => {
  await shutdown();
});

test.serial('calls run in submission order and see actor state', async (t) => {
  const c = await spawn(Counter, { args: [10] });
  const refs = [1, 2, 3, 4, 5].map((i) => c.inc.remote(i));
  t.deepEqual(await get(refs), [11, 13, 16, 20, 25]);
  t.is(await get(c.value.remote()), 25);
  await kill(c);
});

test.serial('async methods are awaited and order is kept with maxConcurrency 1', async (t) => {
  const c = await spawn(Counter);
  const slow = c.slowEcho.remote('slow', 150);
  const fast = c.now.remote();
  const [, fastAt] = await get([slow, fast]);
  const slowDone = await get(c.now.remote());
  t.true(fastAt <= slowDone);
  t.is(await get(slow), 'slow');
  await kill(c);
});

test.serial('maxConcurrency > 1 lets async calls overlap', async (t) => {
  const c = await spawn(Counter, { maxConcurrency: 4 });
  const spans = await get([c.span.remote(400), c.span.remote(400), c.span.remote(400), c.span.remote(400)]);
  const lastStart = Math.max(...spans.map((s) => s[0]));
  const firstEnd = Math.min(...spans.map((s) => s[1]));
  t.true(lastStart < firstEnd, 'all four calls were running at the same time');
  await kill(c);
});

test.serial('a throwing method rejects get with TaskError and the actor keeps serving', async (t) => {
  const c = await spawn(Counter, { name: 'thrower' });
  const err = await t.throwsAsync(get(c.fail.remote('bad input')), { instanceOf: TaskError });
  t.regex(err!.message, /thrower\.fail\(\) threw RangeError: bad input/);
  t.regex(String((err!.cause as Error).stack), /RangeError: bad input/);
  t.is((err as TaskError).remoteName, 'RangeError');
  t.is(await get(c.inc.remote()), 1);
  await kill(c);
});

test.serial('unknown method: a clear error naming the methods', async (t) => {
  const c = await spawn(Counter);
  const err = t.throws(() => (c as any).nope.remote(), { instanceOf: InvalidArgumentError });
  t.regex(err!.message, /Counter has no method 'nope'.*inc/);
  await kill(c);
});

test.serial('bad arguments: an unserializable argument throws at .remote() naming the path', async (t) => {
  const c = await spawn(Counter);
  const err = t.throws(() => c.echo.remote({ cb: () => 1 } as never), { instanceOf: InvalidArgumentError });
  t.regex(err!.message, /function/);
  t.regex(err!.message, /cb/);
  const bad = c.unserializable.remote();
  const e2 = await t.throwsAsync(get(bad));
  t.regex(e2!.message, /function/);
  t.is(await get(c.echo.remote(1)), 1);
  await kill(c);
});

test.serial('refs as arguments, nested in arrays and objects, are resolved', async (t) => {
  const c = await spawn(Counter);
  const d = await spawn(Counter);
  const a = c.echo.remote(2);
  const b = put({ three: 3 });
  const out = await get(d.echo.remote({ list: [a, b], direct: a }));
  t.deepEqual(out, { list: [2, { three: 3 }], direct: 2 });
  t.is(await get(d.inc.remote(a as never)), 2);
  await kill(c);
  await kill(d);
});

test.serial('values survive the trip intact: tensors of every dtype, buffers, typed arrays', async (t) => {
  const c = await spawn(Counter);
  const value = {
    f32: new Tensor(new Float32Array([1.5, -2, 3]), [3]),
    f64: Tensor.randn([2, 3], { dtype: 'float64' }),
    f16: Tensor.full([2, 2], 0.5, { dtype: 'float16' }),
    bf16: Tensor.full([3], -1.25, { dtype: 'bfloat16' }),
    i64: new Tensor(new BigInt64Array([1n, -(2n ** 62n), 3n]), [3]),
    i8: new Tensor(new Int8Array([-128, 127]), [2]),
    b: Tensor.full([4], true, { dtype: 'bool' }),
    scalar: Tensor.full([], 7, { dtype: 'int32' }),
    empty: Tensor.zeros([0, 3]),
    buf: Buffer.from('hello'),
    u16: new Uint16Array([1, 2, 65535]),
    nested: new Map<string, unknown>([['k', [new Set([1, 2]), new Date(0)]]]),
    big: 2n ** 70n,
  };
  const back = (await get(c.echo.remote(value))) as typeof value;
  for (const k of ['f32', 'f64', 'f16', 'bf16', 'i64', 'i8', 'b', 'scalar', 'empty'] as const) {
    t.true(back[k] instanceof Tensor, k);
    t.is(back[k].dtype, value[k].dtype, k);
    t.deepEqual(back[k].shape, value[k].shape, k);
    t.true(back[k].equals(value[k]), k);
  }
  t.true(Buffer.isBuffer(back.buf));
  t.deepEqual(back.buf, value.buf);
  t.true(back.u16 instanceof Uint16Array);
  t.deepEqual([...back.u16], [1, 2, 65535]);
  t.deepEqual(back.nested, value.nested);
  t.is(back.big, value.big);
  await kill(c);
});

test.serial('a tensor travels from one actor to another through the object store', async (t) => {
  const a = await spawn(Counter);
  const b = await spawn(Counter);
  const ref = a.tensor.remote('float32', 1000);
  t.deepEqual(await get(b.describe.remote(ref as never)), { dtype: 'float32', shape: [1000], sum: 499500 });
  const local = await get(ref);
  t.is(local.sum(), 499500);
  await kill(a);
  await kill(b);
});

test.serial('actor handles can be passed to actors, which call them through the driver', async (t) => {
  const a = await spawn(Counter, { args: [100] });
  const b = await spawn(Counter);
  t.is(await get(b.callOther.remote(a, 5)), 105);
  t.is(await get(a.value.remote()), 105);
  await kill(a);
  await kill(b);
});

test.serial('put inside an actor returns a ref the driver can get', async (t) => {
  const a = await spawn(Counter);
  const inner = await get(a.putValue.remote({ hello: 'world' }));
  t.deepEqual(await get(inner), { hello: 'world' });
  await kill(a);
});

test.serial('get with timeoutMs rejects with GetTimeoutError and the object can be got later', async (t) => {
  const c = await spawn(Counter);
  const ref = c.slowEcho.remote('late', 600);
  const err = await t.throwsAsync(get(ref, { timeoutMs: 50 }), { instanceOf: GetTimeoutError });
  t.regex(err!.message, /timed out after 50 ms/);
  t.is(await get(ref), 'late');
  await kill(c);
});

test.serial('wait returns ready and pending refs', async (t) => {
  const c = await spawn(Counter, { maxConcurrency: 2 });
  const fast = c.slowEcho.remote('fast', 10);
  const slow = c.slowEcho.remote('slow', 6000);
  const { ready, pending } = await wait([fast, slow], { numReturns: 1, timeoutMs: 5000 });
  t.deepEqual(ready, [fast]);
  t.deepEqual(pending, [slow]);
  await kill(c);
});

test.serial('free drops the stored value; a later get says the object is gone', async (t) => {
  const c = await spawn(Counter);
  const before = objectStoreStats().objects;
  const ref = c.bytes.remote(1 << 20);
  await get(ref);
  t.is(objectStoreStats().objects, before + 1);
  await free(ref);
  t.is(objectStoreStats().objects, before);
  await t.throwsAsync(get(ref), { instanceOf: ObjectLostError });
  await kill(c);
});

test.serial('a crashing actor fails pending and later calls with ActorDiedError; others keep working', async (t) => {
  const a = await spawn(Counter, { name: 'crasher', maxConcurrency: 2 });
  const b = await spawn(Counter);
  const pending = a.slowEcho.remote('never', 5000);
  a.crash.remote();
  const err = await t.throwsAsync(get(pending), { instanceOf: ActorDiedError });
  t.regex(err!.message, /crasher died \(signal SIGKILL\)/);
  await t.throwsAsync(get(a.inc.remote()), { instanceOf: ActorDiedError });
  t.is(await get(b.inc.remote()), 1);
  await kill(b);
});

test.serial('process.exit in an actor is reported with its exit code', async (t) => {
  const a = await spawn(Counter, { name: 'exiter' });
  await get(a.exit.remote(3));
  const err = await t.throwsAsync(get(a.inc.remote()), { instanceOf: ActorDiedError });
  t.regex(err!.message, /exiter died \(exit code 3\)/);
  t.is((err as ActorDiedError).exitCode, 3);
});

test.serial('calling a killed actor fails with ActorDiedError', async (t) => {
  const a = await spawn(Counter, { name: 'victim' });
  await kill(a);
  const err = await t.throwsAsync(get(a.inc.remote()), { instanceOf: ActorDiedError });
  t.regex(err!.message, /victim died .*killed by kill\(\)/);
});

test.serial('a constructor that throws rejects spawn with TaskError', async (t) => {
  const err = await t.throwsAsync(spawn(Failing), { instanceOf: TaskError });
  t.regex(err!.message, /constructor refused/);
});

test.serial('spawn of a class without @actor() or without a module file gives a clear error', async (t) => {
  class Plain {}
  const e1 = await t.throwsAsync(spawn(Plain), { instanceOf: InvalidArgumentError });
  t.regex(e1!.message, /decorate it with @actor\(\)/);
  // A class defined through eval has no module file (like one typed in the REPL).
  const Cls = eval('(function(actor){ class InRepl {}; actor({})(InRepl); return InRepl; })')(actor);
  const e2 = await t.throwsAsync(spawn(Cls), { instanceOf: InvalidArgumentError });
  t.regex(e2!.message, /REPL/);
});

test.serial('pid differs per actor: each actor is its own process', async (t) => {
  const a = await spawn(Counter);
  const b = await spawn(Counter);
  const [pa, pb] = await get([a.pid.remote(), b.pid.remote()]);
  t.not(pa, pb);
  t.not(pa, process.pid);
  await kill(a);
  await kill(b);
});
