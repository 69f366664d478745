/**
 * Failure paths between real processes: bad arguments, deadlines, abort, async NCCL errors, an
 * operation that never completes, peers that die, and rebuilding the group afterwards. The
 * injected failures need the mock NCCL (skipped on a real GPU).
 */
import { mockOnly } from './test/mocks';
import test, { type ExecutionContext } from 'ava';
import { PeerError, tensorSpec, type Peer, type TransferSpec } from '@tensorwire/conformance/testing';
import { createGroup, sleep, withNcclPeers, withPeers } from './test/nccl-peers';

interface Status {
  broken: boolean;
  code?: string;
  reason?: string;
  pending: number;
}

const bytes = (nbytes: number, tag = 1): TransferSpec[] => [{ tag, tensors: [tensorSpec(nbytes, 1)] }];

async function failure(t: ExecutionContext, p: Promise<unknown>): Promise<PeerError> {
  return (await t.throwsAsync(p, { instanceOf: PeerError })) as PeerError;
}

/** A transfer a -> b that must work (the group is usable). */
async function transferWorks(t: ExecutionContext, a: Peer, b: Peer, group: string, aRank = 0, bRank = 1): Promise<void> {
  const transfers = bytes(4096, 77);
  const [, got] = await Promise.all([
    a.call('cudaSend', { group, dst: bRank, transfers }),
    b.call<{ problems: string[] }>('cudaRecv', { group, src: aRank, transfers }),
  ]);
  t.deepEqual(got.problems, []);
}

/** Destroys `group` on every peer given, then creates it again and checks a transfer. */
async function rebuild(t: ExecutionContext, peers: Peer[], group: string): Promise<void> {
  await Promise.all(peers.map((p) => p.call('destroyGroup', { group })));
  await createGroup(peers, group);
  await transferWorks(t, peers[0], peers[1], group);
}

test.serial('bad ranks, tags, CPU tensors, another device and sizes that differ: typed errors, the group stays usable', async (t) => {
  await withPeers(2, async ([a, b]) => {
    await createGroup([a, b], 'args');
    const far = await failure(t, a.call('cudaSend', { group: 'args', dst: 5, transfers: bytes(4) }));
    t.is(far.code, 'NCCL_INVALID_RANK');
    t.is(far.transportKind, 'INVALID');
    t.regex(far.message, /5 is not a rank of nccl group 'args' \(ranks 0\.\.1\)/);
    const self = await failure(t, a.call('cudaRecv', { group: 'args', src: 0, transfers: bytes(4) }));
    t.is(self.code, 'NCCL_INVALID_RANK');
    const tag = await failure(t, a.call('cudaSend', { group: 'args', dst: 1, transfers: bytes(4, -1) }));
    t.is(tag.code, 'NCCL_INVALID_ARGUMENT');
    const cpu = await failure(t, a.call('sendCpuTensor', { group: 'args', dst: 1 }));
    t.is(cpu.code, 'NCCL_CPU_TENSOR');
    t.regex(cpu.message, /moves CUDA tensors only, got a tensor on 'cpu'/);
    const other = await failure(t, a.call('sendOnDevice', { group: 'args', dst: 1, device: 'cuda:1' }));
    t.is(other.code, 'NCCL_DEVICE_MISMATCH');
    // A send and its recv of different sizes: both fail before anything moves.
    const [s, r] = await Promise.allSettled([
      a.call('cudaSend', { group: 'args', dst: 1, transfers: [{ tag: 9, tensors: [tensorSpec(100, 4)] }] }),
      b.call('cudaRecv', { group: 'args', src: 0, transfers: [{ tag: 9, tensors: [tensorSpec(100, 4), tensorSpec(1, 1)] }] }),
    ]);
    for (const x of [s, r]) {
      const e = (x as PromiseRejectedResult).reason as PeerError;
      t.is(e.code, 'NCCL_SIZE_MISMATCH');
      t.is(e.transportKind, 'INVALID');
      t.regex(e.message, /the send of 1 tensor\(s\) of \[400\] bytes .* does not match the recv of 2 tensor\(s\) of \[400, 1\] bytes/);
    }
    t.false((await a.call<Status>('status', { group: 'args' })).broken);
    await transferWorks(t, a, b, 'args');
    const bad = await failure(t, b.call('createGroup', { group: 'other', rank: 2, worldSize: 2, timeoutMs: 2000 }));
    t.is(bad.code, 'NCCL_INVALID_RANK');
  });
});

test.serial('a recv past its deadline: NCCL_TIMEOUT, the communicator aborted, the peer told, later calls fail at once; rebuilt afterwards', async (t) => {
  await withPeers(2, async (peers) => {
    const [a, b] = peers;
    await createGroup(peers, 'slow', 1500);
    const t0 = Date.now();
    const lost = await failure(t, a.call('cudaRecv', { group: 'slow', src: 1, transfers: bytes(4, 777) }));
    t.true(Date.now() - t0 >= 1400);
    t.is(lost.code, 'NCCL_TIMEOUT');
    t.is(lost.transportKind, 'TIMEOUT');
    t.regex(lost.message, /recv of 1 tensor\(s\) \(4 bytes\) from rank 1, tag 777 timed out after 1500 ms \(rank 1 never posted the matching send with this tag\); the communicator was aborted \(ncclCommAbort\)/);
    const status = await a.call<Status>('status', { group: 'slow' });
    t.like(status, { broken: true, code: 'NCCL_TIMEOUT', pending: 0 });
    const later = await failure(t, a.call('barrier', { group: 'slow' }));
    t.is(later.code, 'NCCL_TIMEOUT');
    t.regex(later.message, /the group is broken/);
    // The peer was told: its group is broken too, and its next call fails at once.
    const peerOp = await failure(t, b.call('cudaRecv', { group: 'slow', src: 0, transfers: bytes(4) }));
    t.is(peerOp.code, 'NCCL_PEER_LOST');
    t.regex(peerOp.message, /rank 0 ended the group \(NCCL_TIMEOUT: /);
    await rebuild(t, peers, 'slow');
  });
});

test.serial('abort fails pending operations promptly without blocking, and later ones; the peer sees PEER_LOST', async (t) => {
  await withPeers(2, async ([a, b]) => {
    await createGroup([a, b], 'abortable', 60000);
    const recv = a.start('cudaRecv', { group: 'abortable', src: 1, transfers: bytes(1024, 5) });
    const send = a.start('cudaSend', { group: 'abortable', dst: 1, transfers: bytes(8 << 20, 6) });
    await Promise.all([recv.posted, send.posted]);
    await sleep(200);
    const { returnedAfterMs } = await a.call<{ returnedAfterMs: number }>('abortGroup', { group: 'abortable', reason: 'test says stop' });
    t.true(returnedAfterMs < 50, `abort() returned after ${returnedAfterMs} ms`);
    for (const op of [recv, send]) {
      const out = await failure(t, op.result);
      t.is(out.code, 'NCCL_ABORTED');
      t.is(out.transportKind, 'ABORTED');
      t.regex(out.message, /test says stop/);
    }
    t.is((await failure(t, a.call('barrier', { group: 'abortable' }))).code, 'NCCL_ABORTED');
    const other = await failure(t, b.call('barrier', { group: 'abortable' }));
    t.is(other.code, 'NCCL_PEER_LOST');
    t.is(other.transportKind, 'PEER_LOST');
  });
});

for (const peerLoss of ['error', 'hang'] as const) {
  test.serial(`a peer killed (SIGKILL) during a recv: PEER_LOST (the mock's lost peer: ${peerLoss}), then the group is rebuilt with a new peer`, async (t) => {
    const env = { TENSORWIRE_MOCK_NCCL_PEER_LOSS: peerLoss };
    await withNcclPeers([env, env, env], async ([a, b, c]) => {
      await createGroup([a, b], 'victim', 60000);
      // An operation under way in NCCL (the send is issued: both sides have asked), then the kill.
      const recv = a.start('cudaRecv', { group: 'victim', src: 1, transfers: [...bytes(64 << 20, 1), ...bytes(1 << 20, 2)] });
      const send = b.start('cudaSend', { group: 'victim', dst: 0, transfers: bytes(64 << 20, 1) });
      await Promise.all([recv.posted, send.posted]);
      await send.result;
      await b.kill('SIGKILL');
      const out = await failure(t, recv.result);
      t.is(out.code, 'NCCL_PEER_LOST');
      t.regex(out.message, /lost rank 1|rank 1/);
      t.like(await a.call<Status>('status', { group: 'victim' }), { broken: true, code: 'NCCL_PEER_LOST', pending: 0 });
      await a.call('destroyGroup', { group: 'victim' });
      await createGroup([a, c], 'victim');
      await transferWorks(t, a, c, 'victim');
    });
  });
}

mockOnly('an operation that never completes on the GPU: the deadline aborts the communicator', async (t) => {
  await withNcclPeers([{}, { TENSORWIRE_MOCK_NCCL_HANG: '1' }], async (peers) => {
    const [a, b] = peers;
    await createGroup(peers, 'stuck', 2000);
    const [s, r] = await Promise.allSettled([
      a.call('cudaSend', { group: 'stuck', dst: 1, transfers: bytes(1000) }),
      b.call('cudaRecv', { group: 'stuck', src: 0, transfers: bytes(1000) }),
    ]);
    // The receiver's operation hangs; the sender's may complete (its bytes fit in the buffers).
    t.is(r.status, 'rejected');
    const stuck = (r as PromiseRejectedResult).reason as PeerError;
    t.is(stuck.code, 'NCCL_TIMEOUT');
    t.regex(stuck.message, /recv of 1 tensor\(s\) \(1000 bytes\) from rank 0, tag 1 timed out after 2000 ms \(NCCL did not complete it on the GPU\)/);
    if (s.status === 'rejected') t.is(((s as PromiseRejectedResult).reason as PeerError).code, 'NCCL_PEER_LOST');
    await rebuild(t, peers, 'stuck');
  });
});

mockOnly("an asynchronous NCCL error: NCCL's code and words (ncclGetErrorString, ncclGetLastError), polled while the operation is pending", async (t) => {
  await withNcclPeers([{ TENSORWIRE_MOCK_NCCL_ASYNC_ERROR: '1:ncclSystemError' }, {}], async (peers) => {
    const [a, b] = peers;
    await createGroup(peers, 'async', 30000);
    const [s, r] = await Promise.allSettled([
      a.call('cudaSend', { group: 'async', dst: 1, transfers: bytes(1000) }),
      b.call('cudaRecv', { group: 'async', src: 0, transfers: bytes(1000) }),
    ]);
    const mine = (s as PromiseRejectedResult).reason as PeerError;
    t.is(mine.code, 'NCCL_SYSTEM_ERROR');
    t.is(mine.transportKind, 'INTERNAL');
    t.regex(mine.message, /send of 1 tensor\(s\) \(1000 bytes\) to rank 1, tag 1 failed \(asynchronous error\): NCCL ncclSystemError \(unhandled system error.*\): rank 0: operation 1 failed \(TENSORWIRE_MOCK_NCCL_ASYNC_ERROR\)/);
    const theirs = (r as PromiseRejectedResult).reason as PeerError;
    t.is(theirs.code, 'NCCL_PEER_LOST');
    t.regex(theirs.message, /rank 0 ended the group \(NCCL_SYSTEM_ERROR/);
    await rebuild(t, peers, 'async');
  });
});

mockOnly('a peer that dies in the middle of its send (the mock kills it): the receiver gets PEER_LOST', async (t) => {
  await withNcclPeers([{ TENSORWIRE_MOCK_NCCL_DIE: '1' }, {}], async ([a, b]) => {
    await createGroup([a, b], 'dying', 30000);
    const recv = b.start('cudaRecv', { group: 'dying', src: 0, transfers: bytes(1 << 20) });
    await recv.posted;
    a.start('cudaSend', { group: 'dying', dst: 1, transfers: bytes(1 << 20) }).result.catch(() => {});
    const out = await failure(t, recv.result);
    t.is(out.code, 'NCCL_PEER_LOST');
    t.regex(out.message, /lost rank 0: its control connection closed without a goodbye/);
    t.is((await a.exited).signal, 'SIGKILL');
  });
});

test.serial('process exit with a group alive (and a recv pending) does not crash or hang', async (t) => {
  await withPeers(2, async ([a, b]) => {
    await createGroup([a, b], 'left-open');
    const recv = a.start('cudaRecv', { group: 'left-open', src: 1, transfers: bytes(16, 424242) });
    await recv.posted;
    await a.call('exit', {});
    t.deepEqual(await a.exited, { code: 0, signal: null });
    await b.call('exit', { natural: true });
    t.deepEqual(await b.exited, { code: 0, signal: null }, 'a live group does not keep the process alive');
  });
});

test.serial('destroy twice is harmless; operations after destroy fail with NCCL_DESTROYED', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'twice');
    const [ra, rb] = await Promise.all(peers.map((p) => p.call<{ broken: boolean; code?: string }>('destroyTwice', { group: 'twice' })));
    t.like(ra, { broken: true, code: 'NCCL_DESTROYED' });
    t.like(rb, { broken: true, code: 'NCCL_DESTROYED' });
    const after = await failure(t, peers[0].call('barrier', { group: 'twice' }));
    t.is(after.code, 'NCCL_DESTROYED');
    t.is(after.transportKind, 'CLOSED');
  });
});
