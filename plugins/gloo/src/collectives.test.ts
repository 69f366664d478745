/** barrier / allreduce / broadcast between two real processes. */
import test from 'ava';
import { createGroup, withPeers } from './testing/peers';

type Op = 'sum' | 'prod' | 'min' | 'max';
const OPS: Op[] = ['sum', 'prod', 'min', 'max'];

function expected(op: Op, a: number, b: number): number {
  switch (op) {
    case 'sum': return a + b;
    case 'prod': return a * b;
    case 'min': return Math.min(a, b);
    case 'max': return Math.max(a, b);
  }
}

// Values chosen to stay exact in every dtype (small integers; int8 products within range).
const RANK0 = [1, -2, 3, 7, 0, 5];
const RANK1 = [4, 3, -6, 2, 9, -1];
const UNSIGNED0 = [1, 2, 3, 7, 0, 5];
const UNSIGNED1 = [4, 3, 6, 2, 9, 1];

test.serial('barrier, broadcast and allreduce (sum/prod/min/max) for every dtype', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'coll');
    await Promise.all(peers.map((p) => p.call('barrier', { name: 'coll' })));
    await Promise.all(peers.map((p) => p.call('barrier', { name: 'coll' })));

    const [b0, b1] = await Promise.all([
      peers[0].call<number[]>('broadcast', { name: 'coll', root: 1, values: [0, 0, 0], fill: false }),
      peers[1].call<number[]>('broadcast', { name: 'coll', root: 1, values: [1.25, -7, 1e300], fill: true }),
    ]);
    t.deepEqual(b0, [1.25, -7, 1e300]);
    t.deepEqual(b1, [1.25, -7, 1e300]);

    for (const dtype of ['float32', 'float64', 'int32', 'int64', 'int8', 'uint8', 'int16'] as const) {
      const unsigned = dtype === 'uint8';
      const v0 = unsigned ? UNSIGNED0 : RANK0;
      const v1 = unsigned ? UNSIGNED1 : RANK1;
      for (const op of OPS) {
        const [r0, r1] = await Promise.all([
          peers[0].call<(number | string)[]>('allreduce', { name: 'coll', dtype, op, values: v0 }),
          peers[1].call<(number | string)[]>('allreduce', { name: 'coll', dtype, op, values: v1 }),
        ]);
        const want = v0.map((a, i) => expected(op, a, v1[i]));
        t.deepEqual(r0.map(Number), want, `${dtype} ${op} rank 0`);
        t.deepEqual(r1.map(Number), want, `${dtype} ${op} rank 1`);
      }
    }
  });
});

test.serial('allreduce of a large float32 buffer (several Gloo segments)', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'coll-big');
    const n = 300_000; // > Gloo's 1 MiB segment size
    const v0 = Array.from({ length: n }, (_, i) => i % 1000);
    const v1 = Array.from({ length: n }, (_, i) => (i % 7) - 3);
    const [r0, r1] = await Promise.all([
      peers[0].call<number[]>('allreduce', { name: 'coll-big', dtype: 'float32', op: 'sum', values: v0 }),
      peers[1].call<number[]>('allreduce', { name: 'coll-big', dtype: 'float32', op: 'sum', values: v1 }),
    ]);
    const bad = r0.findIndex((x, i) => x !== v0[i] + v1[i] || r1[i] !== x);
    t.is(bad, -1);
  });
});

test.serial('collectives and send/recv interleave on one group', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'mix');
    const buffers = [{ dtype: 'float32', length: 4096 }];
    for (let i = 0; i < 3; i++) {
      const [sent, received] = await Promise.all([
        peers[0].call<string[]>('sendRandom', { name: 'mix', peer: 1, tag: i, buffers }),
        peers[1].call<{ digest: string }[]>('recvCheck', { name: 'mix', peer: 0, tag: i, buffers }),
      ]);
      t.is(received[0].digest, sent[0]);
      await Promise.all(peers.map((p) => p.call('barrier', { name: 'mix' })));
    }
  });
});
