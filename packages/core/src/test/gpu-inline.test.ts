import test from 'ava';
import { init, shutdown, spawn, get, kill, createCollectiveGroup, destroyCollectiveGroup, TransferError } from '../index';
import { Producer } from './fixtures/gpu-actors';

test.before(async () => {
  await init({ inlineGpuObjectBytes: 4096, transferTimeoutMs: 1500 });
});
test.after.always(async () => {
  await shutdown();
});

test.serial('small GPU objects reach consumers from their inline copy; after going back to the producer they move over the transport', async (t) => {
  const a = await spawn(Producer, { name: 'small-producer' });
  const b = await spawn(Producer);
  const g = await createCollectiveGroup([a, b], { backend: 'tcp-test' });
  const ref = a.make.remote(16, 2);
  await get(ref);
  const pid = await get(a.pid.remote());
  process.kill(pid, 'SIGSTOP'); // the producer can do nothing now
  try {
    t.is(await get(b.sum.remote(ref)), 32, 'served from the inline copy: no producer round trip');
    t.is((await get(ref)).sum(), 32);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  t.is(await get(a.addOne.remote(ref)), 48, 'intra-actor use changes the tensor');
  t.is(await get(b.sum.remote(ref)), 48, 'consumers now get the changed tensor, over the transport');
  process.kill(pid, 'SIGSTOP');
  try {
    await t.throwsAsync(get(b.sum.remote(ref)), { instanceOf: TransferError }, 'no stale inline copy is used');
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  await destroyCollectiveGroup(g).catch(() => {});
  await kill(a);
  await kill(b);
});
