/** send/recv between two real processes (forked peers; the test serves the rendezvous). */
import test from 'ava';
import { tensorSpec, type ElementSize, type Peer, type TensorSpec, type TransferSpec } from '@tensorwire/conformance/testing';
import { createGroup, withPeers } from './testing/gloo-peers';

/** Element sizes of the dtypes Gloo moves: int8/uint8, int16/float16, int32/float32, int64/float64. */
const spec = (elementSize: ElementSize, numel: number): TensorSpec => tensorSpec(numel, elementSize);

/**
 * One transfer from rank `src` to the other rank of a two-peer group (peers[i] has rank i): the
 * sender fills the tensors with seeded never-zero bytes, the receiver checks every byte (one
 * never written reads 0) and the bytes around each tensor. Returns the receiver's problems.
 */
async function roundTrip(peers: Peer[], src: 0 | 1, group: string, tag: number, tensors: TensorSpec[]): Promise<string[]> {
  const dst = 1 - src;
  const transfers: TransferSpec[] = [{ tag, tensors }];
  const [, received] = await Promise.all([
    peers[src].call('send', { group, dst, transfers }),
    peers[dst].call<{ problems: string[] }>('recv', { group, src, transfers }),
  ]);
  return received.problems;
}

/** Two peers in group `group`. */
function pair<T>(group: string, fn: (peers: Peer[]) => Promise<T>, timeoutMs?: number): Promise<T> {
  return withPeers(2, async (peers) => {
    await createGroup(peers, group, timeoutMs);
    return fn(peers);
  });
}

test.serial('random data arrives byte-exact for every dtype size, several buffers per transfer, 0-byte included', async (t) => {
  await pair('p2p', async (peers) => {
    // One transfer per element size, each with odd lengths; then one transfer mixing all of them.
    const bySize: TensorSpec[][] = [
      [spec(1, 1001), spec(1, 3)],
      [spec(2, 777), spec(2, 5)],
      [spec(4, 4099), spec(4, 65537)],
      [spec(8, 12345), spec(8, 7)],
    ];
    const mixed = (): TensorSpec[] => [spec(4, 1 << 16), spec(1, 0), spec(8, 33), spec(1, 0), spec(8, 1 << 15), spec(1, 1)];
    let tag = 10;
    for (const tensors of [...bySize, mixed()]) {
      t.deepEqual(await roundTrip(peers, 0, 'p2p', tag++, tensors), [], `tensors ${JSON.stringify(tensors)}`);
    }
    // And the other direction.
    t.deepEqual(await roundTrip(peers, 1, 'p2p', 99, mixed()), []);
  });
});

test.serial('a transfer made only of 0-byte buffers completes', async (t) => {
  await pair('empty', async (peers) => {
    t.deepEqual(await roundTrip(peers, 0, 'empty', 1, [spec(1, 0), spec(4, 0)]), []);
  });
});

test.serial('a 256 MiB buffer arrives byte-exact', async (t) => {
  await pair(
    'big',
    async (peers) => {
      t.deepEqual(await roundTrip(peers, 0, 'big', 7, [spec(1, 256 * 1024 * 1024)]), []);
    },
    60000,
  );
});

test.serial('32 transfers in flight in each direction at once, distinct tags, no deadlock', async (t) => {
  await pair('flood', async (peers) => {
    // Rank 0 sends tags 1000.., rank 1 sends tags 2000..; both post their 32 recvs before their sends.
    const flood = (base: number): TransferSpec[] => Array.from({ length: 32 }, (_, i) => ({ tag: base + i, tensors: [spec(1, 64 * 1024)] }));
    const to1 = flood(1000);
    const to0 = flood(2000);
    const recv0 = peers[0].start<{ problems: string[] }>('recv', { group: 'flood', src: 1, transfers: to0 });
    const recv1 = peers[1].start<{ problems: string[] }>('recv', { group: 'flood', src: 0, transfers: to1 });
    await Promise.all([recv0.posted, recv1.posted]);
    const [, , got0, got1] = await Promise.all([
      peers[0].call('send', { group: 'flood', dst: 1, transfers: to1 }),
      peers[1].call('send', { group: 'flood', dst: 0, transfers: to0 }),
      recv0.result,
      recv1.result,
    ]);
    t.deepEqual([...got0.problems, ...got1.problems], []);
    t.is(to0.length + to1.length, 64, '64 transfers, each one send and one recv');
  });
});

test.serial('a pending recv does not hold up a later send (receive-before-send on both sides)', async (t) => {
  await pair('order', async (peers) => {
    // Both ranks first post a recv whose matching send comes only after the peer received ours.
    const one = [{ tag: 1, tensors: [spec(1, 1024)] }];
    const two = [{ tag: 2, tensors: [spec(1, 1024)] }];
    const r0 = peers[0].start<{ problems: string[] }>('recv', { group: 'order', src: 1, transfers: two });
    await r0.posted;
    const r1 = peers[1].start<{ problems: string[] }>('recv', { group: 'order', src: 0, transfers: one });
    await r1.posted;
    await peers[0].call('send', { group: 'order', dst: 1, transfers: one });
    t.pass('send completed while a recv waits');
    t.deepEqual((await r1.result).problems, []);
    await peers[1].call('send', { group: 'order', dst: 0, transfers: two });
    t.deepEqual((await r0.result).problems, []);
  });
});

test.serial('a group destroyed and re-created with the same name and ranks works again', async (t) => {
  await withPeers(2, async (peers) => {
    for (let round = 0; round < 3; round++) {
      await createGroup(peers, 'again');
      t.deepEqual(await roundTrip(peers, 0, 'again', 5, [spec(4, 1000)]), [], `round ${round}`);
      await Promise.all(peers.map((p) => p.call('destroyTwice', { group: 'again' })));
    }
  });
});

test.serial('two groups in the same two processes (one per Gloo context and port): transfers in both at once, same tags, each byte-exact', async (t) => {
  await withPeers(2, async (peers) => {
    // Ranks swapped in the second group, so each process is rank 0 in one and rank 1 in the other.
    await Promise.all([
      ...peers.map((p, rank) => p.call('createGroup', { group: 'weights', rank, worldSize: 2, timeoutMs: 20000 })),
      ...peers.map((p, rank) => p.call('createGroup', { group: 'rollouts', rank: 1 - rank, worldSize: 2, timeoutMs: 20000 })),
    ]);
    const tensors = (): TensorSpec[] => [spec(4, 1 << 16), spec(8, 333), spec(1, 7)];
    // The same tags in both groups: a message of one group never matches a recv of the other.
    for (const tag of [1, 2, 3]) {
      const [weights, rollouts] = await Promise.all([
        roundTrip(peers, 0, 'weights', tag, tensors()),
        // peers[1] is rank 0 of 'rollouts': this sends from peers[1] to peers[0] (its rank 1).
        roundTripIn(peers, 1, 1, 'rollouts', tag, tensors()),
      ]);
      t.deepEqual([...weights, ...rollouts], [], `tag ${tag}`);
    }
    await Promise.all(peers.map((p) => p.call('destroyTwice', { group: 'weights' })));
    t.deepEqual(await roundTripIn(peers, 1, 1, 'rollouts', 9, tensors()), [], "destroying one group leaves the other working");
  });
});

/** One transfer in `group` from peers[from] to peers[1 - from], whose rank there is `dstRank`. */
async function roundTripIn(peers: Peer[], from: 0 | 1, dstRank: number, group: string, tag: number, tensors: TensorSpec[]): Promise<string[]> {
  const to = 1 - from;
  const transfers: TransferSpec[] = [{ tag, tensors }];
  const [, received] = await Promise.all([
    peers[from].call('send', { group, dst: dstRank, transfers }),
    peers[to].call<{ problems: string[] }>('recv', { group, src: 1 - dstRank, transfers }),
  ]);
  return received.problems;
}
