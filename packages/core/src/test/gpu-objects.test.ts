import test from 'ava';
import * as path from 'node:path';
import {
  init, shutdown, spawn, get, wait, free, kill, actorStats, method,
  createCollectiveGroup, destroyCollectiveGroup, destroyAllCollectiveGroups, getCollectiveGroups,
  CollectiveGroupError, InvalidTransportError, TaskError, TransportUnavailableError, ActorDiedError, ObjectLostError, Tensor,
} from '../index';
import { Producer } from './fixtures/gpu-actors';

test.before(async () => {
  // Small objects would be inlined; these tests are about the transport path.
  await init({ inlineGpuObjectBytes: 0, transports: [path.join(__dirname, 'fixtures', 'unavailable-transport.js')] });
});
test.after.always(async () => {
  await shutdown();
});

async function pair(): Promise<[any, any, any]> {
  const a = await spawn(Producer);
  const b = await spawn(Producer);
  const g = await createCollectiveGroup([a, b], { backend: 'tcp-test' });
  return [a, b, g];
}

test.serial('a GPU object moves producer -> consumer, stays in the producer, and get copies it', async (t) => {
  const [a, b, g] = await pair();
  const ref = a.make.remote(1000, 2);
  t.is(await get(b.sum.remote(ref)), 2000);
  t.like(await actorStats(a), { gpuObjects: 1, tensors: 1 });
  t.like(await actorStats(b), { gpuObjects: 0, receivedCopies: 0 });
  const copy = (await get(ref)) as Tensor;
  t.true(copy instanceof Tensor);
  t.is(copy.sum(), 2000);
  await free(ref);
  t.like(await actorStats(a), { gpuObjects: 0, tensors: 0, pendingTransfers: 0 });
  await destroyCollectiveGroup(g);
  await kill(a);
  await kill(b);
});

test.serial('intra-actor use hands over the very same, mutable tensors', async (t) => {
  const [a, b, g] = await pair();
  const ref = a.make.remote(10, 1);
  t.true(await get(a.same.remote(ref, ref)));
  t.is(await get(a.addOne.remote(ref)), 20);
  t.is(await get(a.sum.remote(ref)), 20, 'the change is seen by a later call');
  t.is(await get(b.sum.remote(ref)), 20);
  await destroyCollectiveGroup(g);
  await kill(a);
  await kill(b);
});

test.serial('nested tensors, a result without tensors, same ref twice, same ref to one actor twice', async (t) => {
  const [a, b, g] = await pair();
  const nested = a.nested.remote();
  t.is(await get(b.sumNested.remote(nested)), 4 + 6 + 5 + 3);
  const v = (await get(nested)) as { meta: unknown; list: Tensor[] };
  t.deepEqual(v.meta, { step: 3, name: 'w' });
  t.is(v.list[1]!.dtype, 'int64');
  t.deepEqual(await get(b.sum.remote(a.noTensor.remote() as never)).catch((e: Error) => e.name), 'TaskError');
  t.deepEqual(await get(a.noTensor.remote()), { x: 1 });
  const ref = a.make.remote(5, 3);
  t.true(await get(b.same.remote(ref, ref)), 'one transfer, one tensor, for the same ref twice');
  t.deepEqual(await get([b.sum.remote(ref), b.sum.remote(ref)]), [15, 15]);
  await destroyCollectiveGroup(g);
  await kill(a);
  await kill(b);
});

test.serial('errors in the producer reach consumers and get; later transfers still work', async (t) => {
  const [a, b, g] = await pair();
  const bad = a.fail.remote();
  await t.throwsAsync(get(b.sum.remote(bad)), { instanceOf: TaskError, message: /producer failed/ });
  await t.throwsAsync(get(bad), { instanceOf: TaskError });
  t.is(await get(b.sum.remote(a.make.remote(3, 1))), 3);
  await destroyCollectiveGroup(g);
  await kill(a);
  await kill(b);
});

test.serial('a producer busy in a long async call still sends', async (t) => {
  const a = await spawn(Producer); // maxConcurrency 1: the busy call holds the only call slot
  const b = await spawn(Producer);
  const g = await createCollectiveGroup([a, b], { backend: 'tcp-test' });
  const ref = a.make.remote(100, 1);
  await get(ref);
  const busy = a.busy.remote(4000);
  const sum = b.sum.remote(ref);
  const { ready } = await wait([busy, sum], { numReturns: 1 });
  t.deepEqual(ready, [sum], 'the transfer finished while the producer was still busy');
  t.is(await get(sum), 100);
  await get(busy);
  await destroyCollectiveGroup(g);
  await kill(a);
  await kill(b);
});

test.serial('waitTensorFreed resolves once the object holding the tensor is freed', async (t) => {
  const [a, b, g] = await pair();
  const ref = a.keep.remote(8);
  t.is(await get(b.sum.remote(ref)), 32);
  const waiting = get(a.keptFreed.remote(5000));
  await free(ref);
  t.true(await waiting);
  await destroyCollectiveGroup(g);
  await kill(a);
  await kill(b);
});

test.serial('collective group errors: no common group, duplicates, unknown name; an actor may join several groups', async (t) => {
  const a = await spawn(Producer, { name: 'ga' });
  const b = await spawn(Producer, { name: 'gb' });
  const c = await spawn(Producer, { name: 'gc' });
  const e1 = await t.throwsAsync(get(b.sum.remote(a.make.remote(2))), { instanceOf: CollectiveGroupError });
  t.regex(e1!.message, /share no active tcp-test collective group.*createCollectiveGroup\(\[ga, gb\]/);
  await t.throwsAsync(createCollectiveGroup([a, a], { backend: 'tcp-test' }), { instanceOf: CollectiveGroupError, message: /appears twice/ });
  const g = await createCollectiveGroup([a, b], { backend: 'tcp-test', name: 'g1' });
  t.is(g.rankOf(b), 1);
  t.is(g.rankOf(c), -1);
  const gbc = await createCollectiveGroup([b, c], { backend: 'tcp-test', name: 'g-bc' });
  t.is(getCollectiveGroups([b], 'tcp-test').length, 2, 'b is in g1 and g-bc: several groups of one backend');
  t.is(await get(c.sum.remote(b.make.remote(3, 1))), 3, 'b -> c over g-bc');
  t.is(await get(b.sum.remote(a.make.remote(3, 2))), 6, 'a -> b over g1');
  await destroyCollectiveGroup(gbc);
  t.is(getCollectiveGroups([a, b]).length, 1);
  await t.throwsAsync(destroyCollectiveGroup('nope'), { instanceOf: CollectiveGroupError });
  await destroyCollectiveGroup('g1');
  t.is(g.state, 'destroyed');
  t.is(getCollectiveGroups([a, b]).length, 0);
  const g2 = await createCollectiveGroup([b, c], { backend: 'tcp-test' });
  t.is(await get(c.sum.remote(b.make.remote(4, 1))), 4, 'actors join a new group after destroy');
  await destroyAllCollectiveGroups();
  t.is(g2.state, 'destroyed');
  for (const x of [a, b, c]) await kill(x);
});

test.serial('typos fail at decoration, unregistered transports at .options(); unavailable ones name the fix', async (t) => {
  // @ts-expect-error: not a declared transport name (a typo of 'tcp-test')
  const e = t.throws(() => method({ tensorTransport: 'Tcp-Test' }), { instanceOf: InvalidTransportError });
  t.regex(e!.message, /unknown tensor transport 'Tcp-Test': did you mean 'tcp-test'\? Installed: .*tcp-test/);
  // @ts-expect-error: not a declared transport name
  t.notThrows(() => method({ tensorTransport: 'nope' }), 'a name that may be registered later passes at decoration');
  const a = await spawn(Producer);
  // @ts-expect-error: not a declared transport name
  const e2 = t.throws(() => a.make.options({ tensorTransport: 'nope' }), { instanceOf: InvalidTransportError });
  t.regex(e2!.message, /make\.options\(\): unknown tensor transport 'nope'\. Installed: .*tcp-test/);
  const b = await spawn(Producer);
  const err = await t.throwsAsync(createCollectiveGroup([a, b], { backend: 'missing-lib' }), { instanceOf: TransportUnavailableError });
  t.regex(err!.message, /libmissing.so.1 not found.*apt-get install libmissing-dev/);
  t.is(await get(a.sum.remote(Tensor.ones([2]))), 2, 'the actors keep working');
  await kill(a);
  await kill(b);
});

test.serial('a producer that dies: consumers fail with a clear error, the group is destroyed, others go on', async (t) => {
  const [a, b, g] = await pair();
  const ref = a.make.remote(10);
  await get(ref);
  await get(a.crash.remote()).catch(() => {});
  const err = await t.throwsAsync(get(b.sum.remote(ref)));
  t.true(err instanceof ObjectLostError || err instanceof ActorDiedError, err!.name);
  t.regex(err!.message, /died/);
  await new Promise((r) => setTimeout(r, 200));
  t.is(g.state, 'destroyed');
  t.regex(g.reason!, /died/);
  t.is(await get(b.sum.remote(Tensor.ones([3]))), 3);
  const c = await spawn(Producer);
  await createCollectiveGroup([b, c], { backend: 'tcp-test' });
  t.is(await get(c.sum.remote(b.make.remote(2, 2))), 4, 'a new group works');
  await destroyAllCollectiveGroups();
  await kill(b);
  await kill(c);
});

test.serial('per-call .options({ tensorTransport: "object-store" }) turns a GPU object into a stored value', async (t) => {
  const a = await spawn(Producer);
  const b = await spawn(Producer);
  const ref = a.make.options({ tensorTransport: 'object-store' }).remote(4, 1);
  t.is(await get(b.sum.remote(ref)), 4, 'no group needed: it went through the object store');
  t.like(await actorStats(a), { gpuObjects: 0 });
  await kill(a);
  await kill(b);
});

test.serial('an actor outside the group passes a GPU ref, nested in an object, between members', async (t) => {
  const [a, b, g] = await pair();
  const outsider = await spawn(Producer);
  t.is(await get(outsider.relay.remote(a, b)), 10);
  await destroyCollectiveGroup(g);
  for (const x of [a, b, outsider]) await kill(x);
});
