/** Groups and send/recv of CUDA tensors between real processes (on the mocks by default). */
import { usingMocks } from './test/mocks';
import test from 'ava';
import { tensorSpec, type TransferSpec } from '@tensorwire/conformance/testing';
import { createGroup, withPeers } from './test/nccl-peers';

interface Received {
  ms: number;
  problems: string[];
}

test.serial('a group of two: several CUDA tensors per transfer, both directions, many in flight', async (t) => {
  await withPeers(2, async ([a, b]) => {
    await createGroup([a, b], 'pair');
    const forward: TransferSpec[] = [
      { tag: 1, tensors: [tensorSpec(1000, 4), tensorSpec(3, 1), tensorSpec(0, 8), tensorSpec(257, 2)] },
      { tag: 2, tensors: [tensorSpec(1 << 20, 1)] },
    ];
    const backward: TransferSpec[] = Array.from({ length: 16 }, (_, i) => ({ tag: 100 + i, tensors: [tensorSpec(64 + i, 8)] }));
    // Each side sends and receives at once: a pending recv must not hold up a send.
    const [, gotB, , gotA] = await Promise.all([
      a.call('cudaSend', { group: 'pair', dst: 1, transfers: forward }),
      b.call<Received>('cudaRecv', { group: 'pair', src: 0, transfers: forward }),
      b.call('cudaSend', { group: 'pair', dst: 0, transfers: backward }),
      a.call<Received>('cudaRecv', { group: 'pair', src: 1, transfers: [...backward].reverse() }),
    ]);
    t.deepEqual(gotB.problems, []);
    t.deepEqual(gotA.problems, []);
  });
});

test.serial('recvs posted long before their sends, in another order, match by tag', async (t) => {
  await withPeers(2, async ([a, b]) => {
    await createGroup([a, b], 'late');
    const transfers: TransferSpec[] = [3, 1, 2].map((tag) => ({ tag, tensors: [tensorSpec(4096 * tag, 4)] }));
    const recv = b.start<Received>('cudaRecv', { group: 'late', src: 0, transfers });
    await recv.posted;
    await new Promise((r) => setTimeout(r, 300));
    await a.call('cudaSend', { group: 'late', dst: 1, transfers: [...transfers].reverse() });
    t.deepEqual((await recv.result).problems, []);
  });
});

test.serial('three ranks: a ring of transfers and a group re-created under the same name', async (t) => {
  await withPeers(3, async (peers) => {
    for (let round = 0; round < 2; round++) {
      await createGroup(peers, 'ring');
      const specs = peers.map((_, r): TransferSpec[] => [{ tag: r, tensors: [tensorSpec(5000 + r, 2), tensorSpec(17, 8)] }]);
      const results = await Promise.all(
        peers.flatMap((p, r) => [
          p.call('cudaSend', { group: 'ring', dst: (r + 1) % 3, transfers: specs[r] }),
          p.call<Received>('cudaRecv', { group: 'ring', src: (r + 2) % 3, transfers: specs[(r + 2) % 3] }),
        ]),
      );
      for (const r of results) if (r && typeof r === 'object' && 'problems' in r) t.deepEqual((r as Received).problems, []);
      await Promise.all(peers.map((p) => p.call('destroyGroup', { group: 'ring' })));
    }
    if (usingMocks) {
      const stats = await peers[0].call<{ streams: number; events: number }>('mockCuda', {});
      t.is(stats.streams, 1, "destroying a group destroys its stream (the device's default lane stays)");
    }
  });
});
