/**
 * The runtime with the nccl transport (on the mocks by default): actors sharing a GPU
 * (numGpus 0.5) in a collective group, GPU objects of CUDA tensors moved over NCCL with
 * `@method({ tensorTransport: 'nccl' })`, the collectives inside actors, `get`, and a producer's
 * death followed by a rebuilt group.
 */
import { mockOnly } from './test/mocks';
import test from 'ava';
import {
  createCollectiveGroup, destroyAllCollectiveGroups, destroyCollectiveGroup, get, getCollectiveGroups, init, kill, shutdown, spawn, TensorwireError,
  TransferError,
} from '@tensorwire/core';
import { NcclWorker } from './test/nccl-actors';

test.before(async () => {
  await init();
});
test.after.always(async () => {
  await shutdown();
});

test.serial('two actors on one GPU: GPU objects over NCCL, nested tensors, collectives, get', async (t) => {
  const a = await spawn(NcclWorker, { numGpus: 0.5 });
  const b = await spawn(NcclWorker, { numGpus: 0.5 });
  const group = await createCollectiveGroup([a, b], { backend: 'nccl' });
  t.is(group.backend, 'nccl');

  const ref = a.make.remote(1000);
  t.deepEqual(await get(b.sum.remote(ref)), { device: 'cuda:0', sum: 499500 }, 'moved a -> b over NCCL, lands on the GPU');
  t.deepEqual(await get(a.sum.remote(ref)), { device: 'cuda:0', sum: 499500 }, "the producer's own tensor");
  const many = await get(b.sumMany.remote(a.makeMany.remote(100)));
  t.like(many, { devices: ['cuda:0', 'cuda:0'], ints: 4950, halves: 50 });
  const back = b.make.remote(10);
  t.deepEqual(await get(a.sum.remote(back)), { device: 'cuda:0', sum: 45 }, 'and b -> a');
  const copy = await get(ref);
  t.is(copy.device, 'cpu', 'get() of a GPU object returns a CPU copy');
  t.is(copy.sum(), 499500);

  t.deepEqual(await Promise.all([get(a.reduce.remote([1, 2, 3], 'sum')), get(b.reduce.remote([10, 20, 30], 'sum'))]), [[11, 22, 33], [11, 22, 33]]);
  t.deepEqual(await Promise.all([get(a.reduce.remote([1, 20], 'max')), get(b.reduce.remote([10, 2], 'max'))]), [[10, 20], [10, 20]]);
  t.deepEqual(await Promise.all([get(a.bcast.remote([0, 0], 1)), get(b.bcast.remote([7, 8], 1))]), [[7, 8], [7, 8]]);
  const pids = await Promise.all([get(a.meet.remote()), get(b.meet.remote())]);
  t.not(pids[0], pids[1]);
  await destroyCollectiveGroup(group.name);
  await Promise.all([kill(a), kill(b)]);
});

test.serial("the producer dies holding a GPU object: the consumer's call fails with a typed error; a new group works", async (t) => {
  const a = await spawn(NcclWorker, { numGpus: 0.5 });
  const b = await spawn(NcclWorker, { numGpus: 0.5 });
  await createCollectiveGroup([a, b], { backend: 'nccl', name: 'doomed' });
  const ref = a.make.remote(64);
  await get(a.sum.remote(ref)); // produced and kept by a
  await kill(a);
  const err = await t.throwsAsync(get(b.sum.remote(ref)));
  t.true(err instanceof TensorwireError, `${err?.name}: ${err?.message}`);
  await destroyAllCollectiveGroups();
  const c = await spawn(NcclWorker, { numGpus: 0.5 });
  await createCollectiveGroup([b, c], { backend: 'nccl', name: 'doomed' });
  t.deepEqual(await get(c.sum.remote(b.make.remote(5))), { device: 'cuda:0', sum: 10 });
  await destroyAllCollectiveGroups();
  await Promise.all([kill(b), kill(c)]);
});

mockOnly('a transfer NCCL never completes: TransferError naming both actors and the deadline, the group destroyed on every member, then rebuilt', async (t) => {
  process.env.TENSORWIRE_MOCK_NCCL_HANG = '1'; // the producer's first NCCL operation hangs on its stream
  const a = await spawn(NcclWorker, { numGpus: 0.5 });
  delete process.env.TENSORWIRE_MOCK_NCCL_HANG;
  const b = await spawn(NcclWorker, { numGpus: 0.5 });
  await createCollectiveGroup([a, b], { backend: 'nccl', name: 'stalls', timeoutMs: 3000 });
  const err = await t.throwsAsync(get(b.sum.remote(a.make.remote(1000))), { instanceOf: TransferError });
  t.regex(err!.message, /from actor actor-\d+ to actor-\d+ over nccl failed: .*timed out after 3000 ms/);
  // The consumer's own deadline, or the producer's (whose send hangs) reported to it: either way the deadline's words.
  const details = (err as TransferError & { details: Record<string, unknown> }).details;
  t.like(details, { transport: 'nccl' });
  t.true(details.kind === 'TIMEOUT' || details.kind === 'PEER_LOST', String(details.kind));
  await new Promise((r) => setTimeout(r, 500));
  t.deepEqual(getCollectiveGroups([a, b], 'nccl'), [], 'the driver destroyed the broken group');
  await createCollectiveGroup([a, b], { backend: 'nccl', name: 'stalls', timeoutMs: 3000 });
  t.deepEqual(await get(b.sum.remote(a.make.remote(10))), { device: 'cuda:0', sum: 45 });
  await destroyAllCollectiveGroups();
  await Promise.all([kill(a), kill(b)]);
});
