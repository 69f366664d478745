/** Failure paths between real processes: wrong ranks, timeouts, abort, peer death, exit. */
import test, { type ExecutionContext } from 'ava';
import { PeerError, tensorSpec, type TransferSpec } from '@tensorwire/conformance/testing';
import { createGroup, sleep, withPeers } from './testing/gloo-peers';

interface Status {
  broken: boolean;
  code?: string;
  reason?: string;
}

/**
 * One transfer of `nbytes` bytes with `tag` (the generic send/recv commands take these). Each
 * call has a fresh seed: a send and the recv that checks it must share one.
 */
const bytes = (nbytes: number, tag = 1): TransferSpec[] => [{ tag, tensors: [tensorSpec(nbytes, 1)] }];

/** `p` rejects with a PeerError (the peer's own code and message); returns it. */
async function failure(t: ExecutionContext, p: Promise<unknown>): Promise<PeerError> {
  const e = await t.throwsAsync(p, { instanceOf: PeerError });
  return e as PeerError;
}

test('wrong ranks, a bad tag, a device tensor and a bad dtype give clear errors and leave the group usable', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'args');
    const far = await failure(t, peers[0].call('send', { group: 'args', dst: 5, transfers: bytes(4) }));
    t.is(far.code, 'GLOO_INVALID_RANK');
    t.regex(far.message, /5 is not a rank of gloo group 'args' \(ranks 0\.\.1\)/);
    const self = await failure(t, peers[0].call('recv', { group: 'args', src: 0, transfers: bytes(4) }));
    t.is(self.code, 'GLOO_INVALID_RANK');
    const tag = await failure(t, peers[0].call('send', { group: 'args', dst: 1, transfers: bytes(4, -1) }));
    t.is(tag.code, 'ERR_OUT_OF_RANGE');
    const cuda = await failure(t, peers[0].call('sendDeviceTensor', { group: 'args', dst: 1 }));
    t.is(cuda.code, 'GLOO_DEVICE_TENSOR');
    const dtype = await failure(t, peers[0].call('allreduceAs', { group: 'args', dtype: 'complex128', nbytes: 4 }));
    t.is(dtype.code, 'GLOO_UNSUPPORTED');
    t.false((await peers[0].call<Status>('status', { group: 'args' })).broken);
    // Still works.
    const transfers = bytes(4, 3);
    const [, received] = await Promise.all([
      peers[0].call('send', { group: 'args', dst: 1, transfers }),
      peers[1].call<{ problems: string[] }>('recv', { group: 'args', src: 0, transfers }),
    ]);
    t.deepEqual(received.problems, []);
    const bad = await failure(t, peers[1].call('createGroup', { group: 'other', rank: 2, worldSize: 2, timeoutMs: 2000 }));
    t.is(bad.code, 'GLOO_INVALID_RANK');
  });
});

test('a timed-out recv rejects with GLOO_TIMEOUT, then the group is broken for every later call', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'slow', 1500);
    const lost = await failure(t, peers[0].call('recv', { group: 'slow', src: 1, transfers: bytes(4, 777) }));
    t.is(lost.code, 'GLOO_TIMEOUT');
    t.regex(lost.message, /Timed out waiting 1\d{3}ms for recv/);
    t.regex(lost.message, /recv of 1 buffer\(s\) from rank 1, tag 777/);
    const status = await peers[0].call<Status>('status', { group: 'slow' });
    t.true(status.broken);
    t.is(status.code, 'GLOO_TIMEOUT');
    const later = await failure(t, peers[0].call('send', { group: 'slow', dst: 1, transfers: bytes(4) }));
    t.is(later.code, 'GLOO_TIMEOUT');
    t.regex(later.message, /is broken/);
    const barrier = await failure(t, peers[0].call('barrier', { group: 'slow' }));
    t.is(barrier.code, 'GLOO_TIMEOUT');
    // The peer sees its connection closed: its next operation fails instead of hanging.
    const peerOp = await failure(t, peers[1].call('recv', { group: 'slow', src: 0, transfers: bytes(4) }));
    t.true(['GLOO_IO', 'GLOO_TIMEOUT'].includes(peerOp.code!), peerOp.code);
    // Destroying a broken group is fine.
    await Promise.all(peers.map((p) => p.call('destroyTwice', { group: 'slow' })));
  });
});

test('abort fails pending operations promptly without blocking, and later ones too', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'abortable', 60000);
    const recv = peers[0].start('recv', { group: 'abortable', src: 1, transfers: bytes(1024, 5) });
    const send = peers[0].start('send', { group: 'abortable', dst: 1, transfers: bytes(8 << 20, 6) });
    await Promise.all([recv.posted, send.posted]);
    await sleep(200);
    const { returnedAfterMs } = await peers[0].call<{ returnedAfterMs: number }>('abortGroup', { group: 'abortable', reason: 'test says stop' });
    t.true(returnedAfterMs < 1000, 'abort() returned without waiting');
    for (const op of [recv, send]) {
      const out = await failure(t, op.result);
      t.is(out.code, 'GLOO_ABORTED');
      t.regex(out.message, /test says stop/);
    }
    const later = await failure(t, peers[0].call('barrier', { group: 'abortable' }));
    t.is(later.code, 'GLOO_ABORTED');
    // The other side notices the closed connection.
    const other = await failure(t, peers[1].call('recv', { group: 'abortable', src: 0, transfers: bytes(4, 9) }));
    t.is(other.code, 'GLOO_IO');
  });
});

test('the peer killed (SIGKILL) during a recv: the recv rejects with GLOO_IO', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'victim-recv', 60000);
    const recv = peers[0].start('recv', { group: 'victim-recv', src: 1, transfers: bytes(1 << 20) });
    await recv.posted;
    await sleep(200);
    await peers[1].kill('SIGKILL');
    const out = await failure(t, recv.result);
    t.is(out.code, 'GLOO_IO');
    t.regex(out.message, /Connection closed by peer|Connection reset|Read error/);
    t.is((await peers[0].call<Status>('status', { group: 'victim-recv' })).code, 'GLOO_IO');
  });
});

test('the peer killed (SIGKILL) during a send: the send rejects with GLOO_IO', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'victim-send', 60000);
    // 64 MiB that the peer never receives, and one it starts receiving (partly written).
    const pending = peers[0].start('send', { group: 'victim-send', dst: 1, transfers: bytes(64 << 20, 1) });
    const partly = peers[0].start('send', { group: 'victim-send', dst: 1, transfers: bytes(64 << 20, 2) });
    const receiving = peers[1].start('recv', { group: 'victim-send', src: 0, transfers: bytes(64 << 20, 2) });
    await Promise.all([pending.posted, partly.posted, receiving.posted]);
    await sleep(100);
    await peers[1].kill('SIGKILL');
    for (const op of [pending, partly]) {
      const out = await op.result.then(
        () => undefined,
        (e: PeerError) => e,
      );
      if (out === undefined) {
        t.is(op, partly, 'only the send the peer was receiving may have completed before the kill');
        continue;
      }
      t.is(out.code, 'GLOO_IO');
    }
  });
});

test('process exit with a group alive (and a recv pending) does not crash', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'left-open');
    const recv = peers[0].start('recv', { group: 'left-open', src: 1, transfers: bytes(16, 424242) });
    await recv.posted;
    await peers[0].call('exit', {});
    t.deepEqual(await peers[0].exited, { code: 0, signal: null });
    await peers[1].call('exit', { natural: true });
    t.deepEqual(await peers[1].exited, { code: 0, signal: null }, 'a live group does not keep the process alive');
  });
});
