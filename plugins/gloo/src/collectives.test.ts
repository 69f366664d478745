/** barrier / allreduce / broadcast between two real processes. */
import test from 'ava';
import { tensorSpec, type DtypeValue } from '@tensorwire/conformance/testing';
import { createGroup, withPeers } from './testing/gloo-peers';

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
    await Promise.all(peers.map((p) => p.call('barrier', { group: 'coll' })));
    await Promise.all(peers.map((p) => p.call('barrier', { group: 'coll' })));

    // Rank 1 broadcasts seeded bytes; each rank then checks every byte it holds.
    const spec = tensorSpec(3, 8);
    const checks = await Promise.all(peers.map((p) => p.call<{ problems: string[] }>('broadcast', { group: 'coll', root: 1, spec })));
    t.deepEqual(checks.map((c) => c.problems), [[], []]);

    for (const dtype of ['float32', 'float64', 'int32', 'int64', 'int8', 'uint8', 'int16'] as const) {
      const unsigned = dtype === 'uint8';
      const v0 = unsigned ? UNSIGNED0 : RANK0;
      const v1 = unsigned ? UNSIGNED1 : RANK1;
      for (const op of OPS) {
        const [r0, r1] = await Promise.all([
          peers[0].call<DtypeValue[]>('allreduce', { group: 'coll', dtype, op, values: v0 }),
          peers[1].call<DtypeValue[]>('allreduce', { group: 'coll', dtype, op, values: v1 }),
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
      peers[0].call<number[]>('allreduce', { group: 'coll-big', dtype: 'float32', op: 'sum', values: v0 }),
      peers[1].call<number[]>('allreduce', { group: 'coll-big', dtype: 'float32', op: 'sum', values: v1 }),
    ]);
    const bad = r0.findIndex((x, i) => x !== v0[i] + v1[i] || r1[i] !== x);
    t.is(bad, -1);
  });
});

test.serial('collectives and send/recv interleave on one group', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'mix');
    for (let i = 0; i < 3; i++) {
      const transfers = [{ tag: i, tensors: [tensorSpec(4096, 4)] }];
      const [, received] = await Promise.all([
        peers[0].call('send', { group: 'mix', dst: 1, transfers }),
        peers[1].call<{ problems: string[] }>('recv', { group: 'mix', src: 0, transfers }),
      ]);
      t.deepEqual(received.problems, []);
      await Promise.all(peers.map((p) => p.call('barrier', { group: 'mix' })));
    }
  });
});
