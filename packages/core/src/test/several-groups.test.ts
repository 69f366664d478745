/** An actor in several collective groups of one backend: the group a transfer uses, named or not. */
import test from 'ava';
import {
  init, shutdown, spawn, get, kill, createCollectiveGroup, destroyCollectiveGroup, destroyAllCollectiveGroups, getCollectiveGroups,
  AmbiguousCollectiveGroupError, CollectiveGroupError, InvalidArgumentError,
} from '../index';
import { Peer } from './fixtures/beyond-actors';

test.before(async () => {
  await init({ inlineGpuObjectBytes: 0 });
});
test.after.always(async () => {
  await shutdown();
});

test.serial('two actors in two groups of one backend: an unnamed transfer fails naming both; a named one moves', async (t) => {
  const a = await spawn(Peer, { name: 'sg-a' });
  const b = await spawn(Peer, { name: 'sg-b' });
  const g1 = await createCollectiveGroup([a, b], { backend: 'tcp-test', name: 'g1' });
  const g2 = await createCollectiveGroup([b, a], { backend: 'tcp-test', name: 'g2' });
  t.is(getCollectiveGroups([a, b], 'tcp-test').length, 2, 'both groups hold both actors');
  t.is(g2.rankOf(a), 1);

  const ref = a.make.remote(10, 2);
  const e = await t.throwsAsync(get(b.sum.remote(ref)), { instanceOf: AmbiguousCollectiveGroupError });
  t.true(e instanceof CollectiveGroupError, 'a CollectiveGroupError too');
  t.deepEqual([...e!.groups].sort(), ['g1', 'g2']);
  t.is(e!.code, 'COLLECTIVE_GROUP_AMBIGUOUS');
  t.regex(e!.message, /sg-a and sg-b share several tcp-test collective groups \('g1', 'g2'\).*collectiveGroup/);

  t.is(await get(b.sum.options({ collectiveGroup: 'g2' }).remote(ref)), 20, 'the call names g2');
  t.is(await get(b.sum.options({ collectiveGroup: 'g1' }).remote(ref)), 20, 'the call names g1');
  t.is(await get(b.sumOverG2.remote(ref)), 20, "the consuming method's @method({ collectiveGroup })");
  t.is(await get(b.sum.remote(a.makeForG1.remote(5, 1))), 5, "the producing method's @method({ collectiveGroup })");
  t.is(await get(a.sum.options({ collectiveGroup: 'g2' }).remote(b.make.remote(3, 3))), 9, 'the other direction');

  await destroyCollectiveGroup(g2);
  const e2 = await t.throwsAsync(get(b.sum.options({ collectiveGroup: 'g2' }).remote(ref)), { instanceOf: CollectiveGroupError });
  t.regex(e2!.message, /names collective group 'g2'.*it was destroyed.*groups that hold both: 'g1'/, 'the named group is the one used: destroyed, it fails');
  t.is(await get(b.sum.remote(ref)), 20, 'with g2 gone only g1 qualifies: no name needed');
  t.is(g1.state, 'active');
  await destroyAllCollectiveGroups();
  await kill(a);
  await kill(b);
});

test.serial('a named group that does not hold both, or is unknown, fails saying which groups qualify', async (t) => {
  const a = await spawn(Peer, { name: 'sn-a' });
  const b = await spawn(Peer, { name: 'sn-b' });
  const c = await spawn(Peer, { name: 'sn-c' });
  await createCollectiveGroup([a, b], { backend: 'tcp-test', name: 'ab' });
  await createCollectiveGroup([a, c], { backend: 'tcp-test', name: 'ac' });
  await createCollectiveGroup([a, b, c], { backend: 'tcp-test', name: 'abc' });
  const ref = a.make.remote(4, 1);
  const e = await t.throwsAsync(get(b.sum.options({ collectiveGroup: 'ac' }).remote(ref)), { instanceOf: CollectiveGroupError });
  t.regex(e!.message, /sn-b\.sum\.options\(\{ collectiveGroup \}\) names collective group 'ac'.*does not hold both \(its members: sn-a, sn-c\).*groups that hold both: 'ab', 'abc'/);
  const e2 = await t.throwsAsync(get(b.sum.options({ collectiveGroup: 'nope' }).remote(ref)), { instanceOf: CollectiveGroupError });
  t.regex(e2!.message, /no such group exists/);
  t.throws(() => b.sum.options({ collectiveGroup: '' }), { instanceOf: InvalidArgumentError, message: /collectiveGroup must be a group's name/ });
  t.is(await get(c.sum.options({ collectiveGroup: 'ac' }).remote(ref)), 4, 'a three-member group and a pair: the call picks the pair');
  t.is(await get(c.sum.options({ collectiveGroup: 'abc' }).remote(ref)), 4, 'or the three-member group');
  t.is(await get(b.sum.options({ collectiveGroup: 'abc' }).remote(a.make.remote(6, 1))), 6, 'rank 1 of abc receives from rank 0');
  await destroyAllCollectiveGroups();
  for (const x of [a, b, c]) await kill(x);
});
