/** put(value, { tensorTransport }) inside an actor with a two-sided transport. */
import test from 'ava';
import {
  init, shutdown, spawn, get, free, kill, actorStats, createCollectiveGroup, destroyAllCollectiveGroups,
  AmbiguousCollectiveGroupError, CollectiveGroupError, Tensor,
} from '../index';
import { Peer } from './fixtures/beyond-actors';

test.before(async () => {
  await init({ inlineGpuObjectBytes: 0 });
});
test.after.always(async () => {
  await shutdown();
});

test.serial('a put GPU object stays in its actor, is sent to a group member, and get copies it through the object store', async (t) => {
  const a = await spawn(Peer, { name: 'put-a' });
  const b = await spawn(Peer, { name: 'put-b' });
  await createCollectiveGroup([a, b], { backend: 'tcp-test' });
  const { ref } = await get(a.putTensor.remote(1000, 2, 'tcp-test'));
  t.is(await get(b.sum.remote(ref)), 2000, 'moved over the group to the consumer');
  t.like(await actorStats(a), { gpuObjects: 1, tensors: 1 }, 'the tensors stay in the actor that put them');
  t.like(await actorStats(b), { gpuObjects: 0, receivedCopies: 0 });
  const copy = await get(ref);
  t.true(copy instanceof Tensor);
  t.is(copy.sum(), 2000, 'get in the driver: a copy through the object store');
  t.is(await get(a.sum.remote(ref)), 2000, 'the actor that put it uses its own tensor');
  await free(ref);
  t.like(await actorStats(a), { gpuObjects: 0, tensors: 0, pendingTransfers: 0 }, 'freed like a method result');
  await destroyAllCollectiveGroups();
  await kill(a);
  await kill(b);
});

test.serial('waitTensorFreed resolves once a put object is freed; without a common group the consumer gets CollectiveGroupError', async (t) => {
  const a = await spawn(Peer, { name: 'putw-a' });
  const b = await spawn(Peer, { name: 'putw-b' });
  const c = await spawn(Peer, { name: 'putw-c' });
  await createCollectiveGroup([a, b], { backend: 'tcp-test' });
  const { ref } = await get(a.putKept.remote(8, 'tcp-test'));
  t.is(await get(b.sum.remote(ref)), 24);
  const waiting = get(a.keptFreed.remote(10_000));
  await free(ref);
  t.true(await waiting);
  const { ref: other } = await get(a.putTensor.remote(4, 1, 'tcp-test'));
  const e = await t.throwsAsync(get(c.sum.remote(other)), { instanceOf: CollectiveGroupError });
  t.regex(e!.message, /putw-a and putw-c share no active tcp-test collective group/);
  await destroyAllCollectiveGroups();
  for (const x of [a, b, c]) await kill(x);
});

test.serial("put's collectiveGroup picks among several shared groups", async (t) => {
  const a = await spawn(Peer, { name: 'putg-a' });
  const b = await spawn(Peer, { name: 'putg-b' });
  await createCollectiveGroup([a, b], { backend: 'tcp-test', name: 'put-g1' });
  await createCollectiveGroup([a, b], { backend: 'tcp-test', name: 'put-g2' });
  const { ref: unnamed } = await get(a.putTensor.remote(3, 1, 'tcp-test'));
  await t.throwsAsync(get(b.sum.remote(unnamed)), { instanceOf: AmbiguousCollectiveGroupError });
  const { ref } = await get(a.putTensor.remote(3, 2, 'tcp-test', 'put-g2'));
  t.is(await get(b.sum.remote(ref)), 6);
  await destroyAllCollectiveGroups();
  await kill(a);
  await kill(b);
});
