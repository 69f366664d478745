import test from 'ava';
import { init, shutdown, spawn, get, kill, createCollectiveGroup, TransferError } from '../index';
import { Producer } from './fixtures/gpu-actors';

test.before(async () => {
  await init({ transferTimeoutMs: 1500, inlineGpuObjectBytes: 0 });
});
test.after.always(async () => {
  await shutdown();
});

test.serial('a transfer past its deadline fails with TransferError naming both actors; the group is destroyed', async (t) => {
  const a = await spawn(Producer, { name: 'frozen-sender' });
  const b = await spawn(Producer, { name: 'waiting-receiver' });
  const g = await createCollectiveGroup([a, b], { backend: 'tcp-test' });
  const ref = a.make.remote(16, 1);
  await get(ref);
  const pid = await get(a.pid.remote());
  process.kill(pid, 'SIGSTOP'); // the sender can no longer send
  try {
    const err = await t.throwsAsync(get(b.sum.remote(ref)), { instanceOf: TransferError });
    t.regex(err!.message, /object o\d+@\S+ from actor frozen-sender to waiting-receiver over tcp-test/);
    t.regex(err!.message, /deadline/);
    await new Promise((r) => setTimeout(r, 300));
    t.is(g.state, 'destroyed');
    t.regex(g.reason!, /frozen-sender/);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  t.is(await get(b.sum.remote(a.make.options({ tensorTransport: 'object-store' }).remote(3, 1))), 3, 'both actors keep working');
  await kill(a);
  await kill(b);
});
