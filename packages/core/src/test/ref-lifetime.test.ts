/**
 * Refs stay alive as long as an operation or a stored value needs them, and refs the runtime
 * never issued fail at once (issue: reliability, defects 1 and 4).
 */
import test from 'ava';
import {
  init, shutdown, spawn, get, put, wait, kill, objectStoreStats,
  ObjectLostError, ObjectRef, TaskError,
} from '../index';
import { Counter } from './fixtures/actors';

const gc = (globalThis as { gc?: () => void }).gc!;

/** Full GCs spread over `ms`, so finalizers of unreachable refs run while calls are pending. */
async function collectGarbageFor(ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    gc();
    await new Promise((r) => setTimeout(r, 25));
  }
}

test.before(async () => {
  await init();
});
test.after.always(async () => {
  await shutdown();
});

test.serial('get([...]) keeps its refs alive while the calls are pending (GC forced mid-wait)', async (t) => {
  const a = await spawn(Counter);
  const b = await spawn(Counter);
  for (let round = 0; round < 3; round++) {
    // The array of refs is a temporary: nothing but get() holds it.
    const pending = get([a.slowEcho.remote(`a${round}`, 250), b.slowEcho.remote(`b${round}`, 300)]);
    const collecting = collectGarbageFor(200);
    t.deepEqual(await pending, [`a${round}`, `b${round}`]);
    await collecting;
  }
  await kill(a);
  await kill(b);
});

test.serial('get(ref) and wait([...]) keep their refs alive too', async (t) => {
  const a = await spawn(Counter);
  const single = get(a.slowEcho.remote('one', 250));
  await collectGarbageFor(150);
  t.is(await single, 'one');
  const waited = wait([a.slowEcho.remote('w', 250)], { numReturns: 1 });
  await collectGarbageFor(150);
  const { ready } = await waited;
  t.is(ready.length, 1);
  t.is(await get(ready[0]!), 'w');
  await kill(a);
});

test.serial('many short calls through get([...]) under GC pressure all resolve', async (t) => {
  const a = await spawn(Counter, { maxConcurrency: 8 });
  let ok = 0;
  for (let batch = 0; batch < 5; batch++) {
    const refsOfBatch = Array.from({ length: 500 }, (_, i) => a.echo.remote(i));
    const pending = get(refsOfBatch);
    refsOfBatch.length = 0; // only get() holds them now
    gc();
    const values = await pending;
    ok += values.length;
  }
  t.is(ok, 2500);
  await kill(a);
});

test.serial('a ref inside a put value keeps its object alive while the value lives', async (t) => {
  const outer = put({ inner: put(42), list: [put('x')] });
  await collectGarbageFor(150); // the inner refs are unreachable except through the stored value
  const v = await get(outer);
  t.is(await get(v.inner), 42);
  t.is(await get(v.list[0]!), 'x');
});

test.serial('a ref returned by an actor keeps its object alive after the actor dropped its own ref', async (t) => {
  const a = await spawn(Counter, { execArgv: ['--expose-gc'] });
  const r = a.putValue.remote(7);
  await get(a.echo.remote(0)); // the result of putValue has arrived
  t.true(await get(a.gcNow.remote()), 'the actor collected its own ref to the put object');
  const inner = (await get(r)) as ObjectRef<number>;
  t.is(await get(inner), 7);
  await kill(a);
});

test.serial('a ref constructed by hand fails at once with ObjectLostError, and does not block the actor', async (t) => {
  const forged = new ObjectRef<number>('x');
  await t.throwsAsync(get(forged), { instanceOf: ObjectLostError, message: /never issued this id/ });
  await t.throwsAsync(wait([forged]), { instanceOf: ObjectLostError });
  const a = await spawn(Counter);
  t.throws(() => a.echo.remote(forged), { instanceOf: ObjectLostError, message: /object x is no longer available/ });
  t.throws(() => a.echo.remote({ nested: [forged] }), { instanceOf: ObjectLostError });
  t.is(await get(a.inc.remote()), 1, 'the actor queue is not blocked');
  const stats = objectStoreStats();
  t.is(await get(a.inc.remote()), 2);
  t.true(objectStoreStats().entries <= stats.entries + 1, 'forged ids create no entries');
  await kill(a);
});

test.serial('forged refs used inside an actor fail at once, and the other actor keeps working', async (t) => {
  const a = await spawn(Counter);
  const b = await spawn(Counter);
  const e1 = await t.throwsAsync(get(a.getForged.remote()), { instanceOf: TaskError });
  t.regex(e1!.message, /ObjectLostError.*never issued/);
  const e2 = await t.throwsAsync(get(a.forwardForged.remote(b)), { instanceOf: TaskError });
  t.regex(e2!.message, /ObjectLostError.*forged-argument/);
  t.is(await get(b.inc.remote()), 1, "the target's queue is not blocked");
  t.is(await get(a.inc.remote()), 1);
  await kill(a);
  await kill(b);
});

test.serial('a freed ref passed to a call fails at once instead of waiting forever', async (t) => {
  const a = await spawn(Counter);
  let ref: ObjectRef<number> | undefined = put(5);
  const id = ref.id;
  ref = undefined;
  await collectGarbageFor(150);
  const stale = new ObjectRef<number>(id); // the same id, after the object was collected
  t.throws(() => a.echo.remote(stale), { instanceOf: ObjectLostError, message: /was freed/ });
  t.is(await get(a.inc.remote()), 1);
  await kill(a);
});
