/** send/recv between two real processes (forked peers; the test serves the rendezvous). */
import test from 'ava';
import type { BufferSpec } from './testing/protocol';
import { createGroup, withPeers } from './testing/peers';

interface Received {
  digest: string;
  zeroFree: boolean;
}

async function roundTrip(peers: import('./testing/peers').Peer[], name: string, tag: number, buffers: BufferSpec[]) {
  const [sent, received] = await Promise.all([
    peers[0].call<string[]>('sendRandom', { name, peer: 1, tag, buffers }),
    peers[1].call<Received[]>('recvCheck', { name, peer: 0, tag, buffers }),
  ]);
  return { sent, received };
}

test.serial('random data arrives byte-exact for every dtype size, several buffers per transfer, 0-byte included', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'p2p');
    // One transfer per element size, each with odd lengths; then one transfer mixing all of them.
    const bySize: BufferSpec[][] = [
      [{ dtype: 'int8', length: 1001 }, { dtype: 'uint8', length: 3 }],
      [{ dtype: 'int16', length: 777 }, { dtype: 'float16', length: 5 }],
      [{ dtype: 'int32', length: 4099 }, { dtype: 'float32', length: 65537 }],
      [{ dtype: 'float64', length: 12345 }, { dtype: 'int64', length: 7 }],
    ];
    const mixed: BufferSpec[] = [
      { dtype: 'float32', length: 1 << 16 },
      { dtype: 'uint8', length: 0 },
      { dtype: 'int64', length: 33 },
      { dtype: 'uint8', length: 0 },
      { dtype: 'float64', length: 1 << 15 },
      { dtype: 'int8', length: 1 },
    ];
    let tag = 10;
    for (const buffers of [...bySize, mixed]) {
      const { sent, received } = await roundTrip(peers, 'p2p', tag++, buffers);
      t.deepEqual(received.map((r) => r.digest), sent, `buffers ${JSON.stringify(buffers)}`);
      t.true(received.every((r) => r.zeroFree), 'every received byte was written (the data has no zeros)');
    }
    // And the other direction.
    const [sent, received] = await Promise.all([
      peers[1].call<string[]>('sendRandom', { name: 'p2p', peer: 0, tag: 99, buffers: mixed }),
      peers[0].call<Received[]>('recvCheck', { name: 'p2p', peer: 1, tag: 99, buffers: mixed }),
    ]);
    t.deepEqual(received.map((r) => r.digest), sent);
  });
});

test.serial('a transfer made only of 0-byte buffers completes', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'empty');
    const buffers: BufferSpec[] = [{ dtype: 'uint8', length: 0 }, { dtype: 'float32', length: 0 }];
    const { sent, received } = await roundTrip(peers, 'empty', 1, buffers);
    t.deepEqual(received.map((r) => r.digest), sent);
  });
});

test.serial('a 256 MiB buffer arrives byte-exact', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'big', 60000);
    const buffers: BufferSpec[] = [{ dtype: 'uint8', length: 256 * 1024 * 1024 }];
    const { sent, received } = await roundTrip(peers, 'big', 7, buffers);
    t.is(received[0].digest, sent[0]);
    t.true(received[0].zeroFree);
  });
});

test.serial('32 transfers in flight in each direction at once, distinct tags, no deadlock', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'flood');
    // Rank 0 sends tags 1000.., rank 1 sends tags 2000..; each posts its 32 recvs before its sends.
    const [a, b] = await Promise.all([
      peers[0].call<{ transfers: number }>('flood', { name: 'flood', peer: 1, count: 32, size: 64 * 1024, sendBase: 1000, recvBase: 2000 }),
      peers[1].call<{ transfers: number }>('flood', { name: 'flood', peer: 0, count: 32, size: 64 * 1024, sendBase: 2000, recvBase: 1000 }),
    ]);
    t.is(a.transfers + b.transfers, 128);
  });
});

test.serial('a pending recv does not hold up a later send (receive-before-send on both sides)', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'order');
    // Both ranks first post a recv whose matching send comes only after the peer received ours.
    const r0 = await peers[0].call<number>('start', { name: 'order', op: 'recv', peer: 1, tag: 2, size: 1024 });
    const r1 = await peers[1].call<number>('start', { name: 'order', op: 'recv', peer: 0, tag: 1, size: 1024 });
    const s0 = await peers[0].call<number>('start', { name: 'order', op: 'send', peer: 1, tag: 1, size: 1024 });
    t.true((await peers[0].call<{ ok: boolean }>('await', { op: s0 })).ok, 'send completed while a recv waits');
    t.true((await peers[1].call<{ ok: boolean }>('await', { op: r1 })).ok);
    const s1 = await peers[1].call<number>('start', { name: 'order', op: 'send', peer: 0, tag: 2, size: 1024 });
    t.true((await peers[1].call<{ ok: boolean }>('await', { op: s1 })).ok);
    t.true((await peers[0].call<{ ok: boolean }>('await', { op: r0 })).ok);
  });
});

test.serial('a group destroyed and re-created with the same name and ranks works again', async (t) => {
  await withPeers(2, async (peers) => {
    const buffers: BufferSpec[] = [{ dtype: 'float32', length: 1000 }];
    for (let round = 0; round < 3; round++) {
      await createGroup(peers, 'again');
      const { sent, received } = await roundTrip(peers, 'again', 5, buffers);
      t.deepEqual(received.map((r) => r.digest), sent, `round ${round}`);
      await Promise.all(peers.map((p) => p.call('destroy', { name: 'again' })));
    }
  });
});
