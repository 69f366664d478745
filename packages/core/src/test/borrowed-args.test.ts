import test from 'ava';
import { init, shutdown, spawn, get, free, actorStats, createCollectiveGroup, Tensor } from '../index';
import { Borrower, Lender } from './fixtures/borrow-actors';

const BIG = 256 * 1024; // pooled (>= 64 KiB)

test.before(async () => {
  // Small objects would be inlined; these tests are about the transport path.
  await init({ inlineGpuObjectBytes: 0 });
});
test.after.always(async () => {
  await shutdown();
});

async function pair(): Promise<[any, any]> {
  const a = await spawn(Lender);
  const b = await spawn(Borrower);
  await createCollectiveGroup([a, b], { backend: 'tcp-test' });
  return [a, b];
}

test.serial('received tensors are lent to the call: used later without keep(), they throw a RuntimeStateError saying how to keep them', async (t) => {
  const [a, b] = await pair();
  for (const n of [100, BIG]) {
    const ref = a.make.remote(n, 1);
    t.is(await get(b.store.remote(ref)), n);
    const err = (await get(b.useStored.remote())) as string;
    t.regex(err, /^RuntimeStateError: .*received as a GPU-object argument .*of a call .*that has ended.*keep\(tensor\)/);
    await free(ref);
  }
});

test.serial('keep(t), @method({ keepArgs }) and returning the tensor as a GPU object keep it past the call', async (t) => {
  const [a, b] = await pair();
  const ref = a.make.remote(BIG, 2);
  t.is(await get(b.storeKept.remote(ref)), 2 * BIG);
  t.is(await get(b.useStored.remote()), 2 * BIG);
  t.is(await get(b.storeAll.remote(ref)), 2 * BIG);
  t.is(await get(b.useStored.remote()), 2 * BIG);
  const passed = b.passOn.remote(ref);
  t.is(await get(b.sum.remote(passed)), 2 * BIG, 'the producer-side use sees the kept tensor');
  t.is(await get(b.useStored.remote()), 2 * BIG);
  t.is(((await get(passed)) as Tensor).sum(), 2 * BIG);
  await free([ref, passed]);
});

test.serial('a received tensor returned through the object store arrives whole (written before its memory is reused)', async (t) => {
  const [a, b] = await pair();
  for (let i = 1; i <= 4; i++) {
    const ref = a.make.remote(BIG, i);
    const back = (await get(b.echo.remote(ref))) as Tensor;
    t.is(back.sum(), i * BIG);
    await free(ref);
  }
});

test.serial('repeated transfers of one size reuse the receive memory (receivePool hits in actorStats)', async (t) => {
  const [a, b] = await pair();
  for (let i = 0; i < 6; i++) {
    const ref = a.make.remote(BIG, i);
    t.is(await get(b.sum.remote(ref)), i * BIG, 'each transfer sees its own bytes');
    await free(ref);
  }
  const s = (await actorStats(b)).receivePool!;
  t.true(s.hits >= 4, `hits ${s.hits}, misses ${s.misses}`);
  t.true(s.misses <= 2, `hits ${s.hits}, misses ${s.misses}`);
  t.true(s.cachedBytes >= BIG);
});
