/** Failure paths between real processes: wrong ranks, timeouts, abort, peer death, exit. */
import test from 'ava';
import type { OpOutcome } from './testing/protocol';
import { createGroup, sleep, withPeers } from './testing/peers';

interface Status {
  broken: boolean;
  code?: string;
  reason?: string;
}

test('wrong ranks, a bad tag, a device tensor and a bad dtype give clear errors and leave the group usable', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'args');
    const far = await peers[0].call<OpOutcome>('attempt', { name: 'args', what: 'send', peer: 5 });
    t.false(far.ok);
    t.is(far.code, 'GLOO_INVALID_RANK');
    t.regex(far.message!, /5 is not a rank of gloo group 'args' \(ranks 0\.\.1\)/);
    const self = await peers[0].call<OpOutcome>('attempt', { name: 'args', what: 'recv', peer: 0 });
    t.is(self.code, 'GLOO_INVALID_RANK');
    const tag = await peers[0].call<OpOutcome>('attempt', { name: 'args', what: 'badTag', peer: 1 });
    t.is(tag.code, 'ERR_OUT_OF_RANGE');
    const cuda = await peers[0].call<OpOutcome>('attempt', { name: 'args', what: 'sendCuda', peer: 1 });
    t.is(cuda.code, 'GLOO_DEVICE_TENSOR');
    const dtype = await peers[0].call<OpOutcome>('attempt', { name: 'args', what: 'badDtype' });
    t.is(dtype.code, 'GLOO_UNSUPPORTED');
    t.false((await peers[0].call<Status>('status', { name: 'args' })).broken);
    // Still works.
    const [s, r] = await Promise.all([
      peers[0].call<OpOutcome>('attempt', { name: 'args', what: 'send', peer: 1, tag: 3 }),
      peers[1].call<OpOutcome>('attempt', { name: 'args', what: 'recv', peer: 0, tag: 3 }),
    ]);
    t.true(s.ok && r.ok);
    const bad = await peers[1].call<OpOutcome>('createExpectError', { name: 'other', rank: 2, size: 2 });
    t.is(bad.code, 'GLOO_INVALID_RANK');
  });
});

test('a timed-out recv rejects with GLOO_TIMEOUT, then the group is broken for every later call', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'slow', 1500);
    const lost = await peers[0].call<OpOutcome>('attempt', { name: 'slow', what: 'recv', peer: 1, tag: 777 });
    t.false(lost.ok);
    t.is(lost.code, 'GLOO_TIMEOUT');
    t.regex(lost.message!, /Timed out waiting 1\d{3}ms for recv/);
    t.regex(lost.message!, /recv of 1 buffer\(s\) from rank 1, tag 777/);
    const status = await peers[0].call<Status>('status', { name: 'slow' });
    t.true(status.broken);
    t.is(status.code, 'GLOO_TIMEOUT');
    const later = await peers[0].call<OpOutcome>('attempt', { name: 'slow', what: 'send', peer: 1 });
    t.is(later.code, 'GLOO_TIMEOUT');
    t.regex(later.message!, /is broken/);
    const barrier = await peers[0].call<OpOutcome>('attempt', { name: 'slow', what: 'barrier' });
    t.is(barrier.code, 'GLOO_TIMEOUT');
    // The peer sees its connection closed: its next operation fails instead of hanging.
    const peerOp = await peers[1].call<OpOutcome>('attempt', { name: 'slow', what: 'recv', peer: 0, tag: 1 });
    t.false(peerOp.ok);
    t.true(['GLOO_IO', 'GLOO_TIMEOUT'].includes(peerOp.code!), peerOp.code);
    // Destroying a broken group is fine.
    await Promise.all(peers.map((p) => p.call('destroy', { name: 'slow' })));
  });
});

test('abort fails pending operations promptly without blocking, and later ones too', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'abortable', 60000);
    const op = await peers[0].call<number>('start', { name: 'abortable', op: 'recv', peer: 1, tag: 5, size: 1024 });
    const send = await peers[0].call<number>('start', { name: 'abortable', op: 'send', peer: 1, tag: 6, size: 8 << 20 });
    await sleep(200);
    const { returnedAfterMs } = await peers[0].call<{ returnedAfterMs: number }>('abort', { name: 'abortable', reason: 'test says stop' });
    t.true(returnedAfterMs < 1000, 'abort() returned without waiting');
    for (const id of [op, send]) {
      const out = await peers[0].call<OpOutcome>('await', { op: id });
      t.false(out.ok);
      t.is(out.code, 'GLOO_ABORTED');
      t.regex(out.message!, /test says stop/);
    }
    const later = await peers[0].call<OpOutcome>('attempt', { name: 'abortable', what: 'barrier' });
    t.is(later.code, 'GLOO_ABORTED');
    // The other side notices the closed connection.
    const other = await peers[1].call<OpOutcome>('attempt', { name: 'abortable', what: 'recv', peer: 0, tag: 9 });
    t.is(other.code, 'GLOO_IO');
  });
});

test('the peer killed (SIGKILL) during a recv: the recv rejects with GLOO_IO', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'victim-recv', 60000);
    const op = await peers[0].call<number>('start', { name: 'victim-recv', op: 'recv', peer: 1, tag: 1, size: 1 << 20 });
    await sleep(200);
    peers[1].kill('SIGKILL');
    const out = await peers[0].call<OpOutcome>('await', { op });
    t.false(out.ok);
    t.is(out.code, 'GLOO_IO');
    t.regex(out.message!, /Connection closed by peer|Connection reset|Read error/);
    t.is((await peers[0].call<Status>('status', { name: 'victim-recv' })).code, 'GLOO_IO');
  });
});

test('the peer killed (SIGKILL) during a send: the send rejects with GLOO_IO', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'victim-send', 60000);
    // 64 MiB that the peer never receives, and one it starts receiving (partly written).
    const pending = await peers[0].call<number>('start', { name: 'victim-send', op: 'send', peer: 1, tag: 1, size: 64 << 20 });
    const partly = await peers[0].call<number>('start', { name: 'victim-send', op: 'send', peer: 1, tag: 2, size: 64 << 20 });
    await peers[1].call<number>('start', { name: 'victim-send', op: 'recv', peer: 0, tag: 2, size: 64 << 20 });
    await sleep(100);
    peers[1].kill('SIGKILL');
    for (const id of [pending, partly]) {
      const out = await peers[0].call<OpOutcome>('await', { op: id });
      if (out.ok) {
        t.is(id, partly, 'only the send the peer was receiving may have completed before the kill');
        continue;
      }
      t.is(out.code, 'GLOO_IO');
    }
  });
});

test('process exit with a group alive (and a recv pending) does not crash', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'left-open');
    await peers[0].call('exitSoon', { name: 'left-open', pendingRecv: true, peer: 1 });
    const exit0 = await peers[0].exited;
    t.deepEqual(exit0, { code: 0, signal: null });
    await peers[1].call('exitSoon', { name: 'left-open', natural: true });
    const exit1 = await peers[1].exited;
    t.deepEqual(exit1, { code: 0, signal: null }, 'a live group does not keep the process alive');
  });
});
