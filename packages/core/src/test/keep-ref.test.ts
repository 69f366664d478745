/** keepRef: refs that reach actors as refs; get(ref, { into }): receiving into given tensors. */
import test from 'ava';
import {
  init, shutdown, spawn, get, kill, actorStats, keepRef, createCollectiveGroup, destroyAllCollectiveGroups, put,
  IntoMismatchError, InvalidArgumentError, ObjectRef, Tensor, TaskError,
} from '../index';
import { Peer } from './fixtures/beyond-actors';

test.before(async () => {
  await init({ inlineGpuObjectBytes: 0 });
});
test.after.always(async () => {
  await shutdown();
});

test.serial('keepRef: the actor gets the ObjectRef itself (not its value) and may keep it for later calls', async (t) => {
  const a = await spawn(Peer, { name: 'kr-a' });
  const b = await spawn(Peer, { name: 'kr-b' }); // no group: the actor resolves it through the object store
  const slow = a.make.options({ tensorTransport: 'object-store' }).remote(5, 2);
  const got = await get(b.isRef.remote(keepRef(slow)));
  t.deepEqual(got, { isRef: true, id: slow.id }, 'an ObjectRef with the same id');
  t.true(await get(b.hold.remote(keepRef(slow))));
  t.is(await get(b.sumHeld.remote()), 10, 'a later call gets the ref it kept');
  const nested = await get(b.isRef.remote(keepRef(put(Tensor.ones([2])))));
  t.true(nested.isRef, 'a driver put, kept');
  t.throws(() => keepRef('o1' as never), { instanceOf: InvalidArgumentError, message: /keepRef takes an ObjectRef/ });
  await kill(a);
  await kill(b);
});

test.serial('get(ref, { into }) in an actor receives a two-sided object over the group straight into its own tensors', async (t) => {
  const trainer = await spawn(Peer, { name: 'into-trainer' });
  const sampler = await spawn(Peer, { name: 'into-sampler' });
  const outsider = await spawn(Peer, { name: 'into-outsider' });
  await createCollectiveGroup([trainer, sampler], { backend: 'tcp-test' });
  for (const step of [1, 2, 3]) {
    const w = trainer.makeWeights.remote(step);
    const r = await get(sampler.receive.remote(keepRef(w)));
    t.deepEqual(r, { same: true, sums: [4 * step, 6 * step * 10] }, `step ${step}: the sampler's own tensors hold the new weights`);
  }
  t.like(await actorStats(sampler), { receivedCopies: 0 });
  const viaStore = await get(outsider.receive.remote(keepRef(trainer.makeWeights.remote(7))));
  t.deepEqual(viaStore, { same: true, sums: [28, 420] }, 'no common group: through the object store, copied in');

  const wrong = await get(sampler.receiveWrong.remote(keepRef(trainer.makeWeights.remote(1))));
  t.is(wrong.name, 'IntoMismatchError');
  t.is(wrong.code, 'INTO_MISMATCH');
  t.is(wrong.mismatch, 'tensor 0: shape [4] in the object, [5] in into');
  t.regex(wrong.message, /do not fit object .*tensor 0: shape \[4\] in the object, \[5\] in into\. Fix:/);
  const again = await get(sampler.receive.remote(keepRef(trainer.makeWeights.remote(9))));
  t.deepEqual(again.sums, [36, 540], 'the group still works: the mismatch was refused before any send');
  await destroyAllCollectiveGroups();
  for (const x of [trainer, sampler, outsider]) await kill(x);
});

test.serial('get(ref, { into }) in the driver copies into the given tensors; mismatches and lists are refused', async (t) => {
  const a = await spawn(Peer, { name: 'into-driver-a' });
  const ref = a.makeWeights.remote(2);
  const w = [Tensor.zeros([4]), Tensor.zeros([2, 3], { dtype: 'int32' })];
  const value = await get(ref, { into: w });
  t.is(value[0], w[0], 'the value is made of the given tensors');
  t.is(value[1], w[1]);
  t.deepEqual(w.map((x) => x.sum()), [8, 120]);
  const e = await t.throwsAsync(get(ref, { into: [Tensor.zeros([4], { dtype: 'float64' }), w[1]!] }), { instanceOf: IntoMismatchError });
  t.is(e!.mismatch, 'tensor 0: dtype float32 in the object, float64 in into');
  await t.throwsAsync(get(ref, { into: [w[0]!] }), { instanceOf: IntoMismatchError, message: /the object has 2 tensor\(s\), into has 1/ });
  await t.throwsAsync(get([ref, ref], { into: w }), { instanceOf: InvalidArgumentError, message: /takes one ref/ });
  await t.throwsAsync(get(ref, { into: { none: 1 } }), { instanceOf: InvalidArgumentError, message: /holds no tensor/ });
  const stored = put({ x: Tensor.full([3], 4) });
  const into = { x: Tensor.zeros([3]) };
  const v = await get(stored, { into });
  t.is(v.x, into.x, 'an ordinary stored value: copied into a value of the same shape');
  t.is(into.x.sum(), 12);
  t.true(ref instanceof ObjectRef);
  await kill(a);
  t.pass();
});

test.serial('a method that throws with a kept ref still releases it; a kept ref to a failed object fails at get', async (t) => {
  const a = await spawn(Peer, { name: 'kr-fail' });
  const failing = a.make.options({ tensorTransport: 'object-store' }).remote(-1, 0);
  const r = await get(a.isRef.remote(keepRef(failing)));
  t.true(r.isRef, 'the call does not wait for the kept object');
  t.true(await get(a.hold.remote(keepRef(failing))));
  await t.throwsAsync(get(a.sumHeld.remote()), { instanceOf: TaskError });
  await kill(a);
});
