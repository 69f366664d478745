/** barrier, allreduce (every op, every NCCL dtype) and broadcast of CUDA tensors between processes. */
import './test/mocks';
import test from 'ava';
import { PeerError, tensorSpec } from '@tensorwire/conformance/testing';
import { decode, encode, REDUCE_DTYPES } from './test/dtype-bytes';
import { createGroup, withNcclPeers, withPeers } from './test/nccl-peers';

const OPS = ['sum', 'prod', 'min', 'max'] as const;
type Op = (typeof OPS)[number];

/** Rank r's values: every result of every op is a small whole number, exact in every dtype. */
const VALUES = [
  [1, 2, 3, 4],
  [2, 3, 1, 4],
];
const BOOLS = [
  [1, 0, 1, 0],
  [1, 1, 0, 0],
];

function expected(op: Op, columns: number[][]): number[] {
  return columns[0].map((_, i) => {
    const xs = columns.map((c) => c[i]);
    if (op === 'sum') return xs.reduce((a, b) => a + b, 0);
    if (op === 'prod') return xs.reduce((a, b) => a * b, 1);
    return op === 'min' ? Math.min(...xs) : Math.max(...xs);
  });
}

test.serial('allreduce: sum, prod, min and max on every NCCL dtype (bool as logical or / and)', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'reduce');
    for (const dtype of REDUCE_DTYPES) {
      for (const op of OPS) {
        const inputs = dtype === 'bool' ? BOOLS : VALUES;
        const want = dtype === 'bool' ? expected(op === 'sum' ? 'max' : op === 'prod' ? 'min' : op, inputs) : expected(op, inputs);
        const got = await Promise.all(peers.map((p, r) => p.call<number[]>('cudaAllreduce', { group: 'reduce', bytes: encode(dtype, inputs[r]), dtype, op })));
        for (const bytes of got) t.deepEqual(decode(dtype, bytes), want, `${dtype} ${op}`);
      }
    }
  });
});

test.serial('three ranks: allreduce, broadcast from every root, barriers', async (t) => {
  await withPeers(3, async (peers) => {
    await createGroup(peers, 'trio');
    const got = await Promise.all(peers.map((p, r) => p.call<number[]>('cudaAllreduce', { group: 'trio', bytes: encode('float32', [r, 10 * r, 0.5]), dtype: 'float32' })));
    for (const bytes of got) t.deepEqual(decode('float32', bytes), [3, 30, 1.5]);
    for (let root = 0; root < 3; root++) {
      const spec = tensorSpec(10_000 + root, 4);
      const results = await Promise.all(peers.map((p) => p.call<{ problems: string[] }>('cudaBroadcast', { group: 'trio', root, spec })));
      for (const r of results) t.deepEqual(r.problems, [], `broadcast from ${root}`);
    }
    for (let i = 0; i < 3; i++) await Promise.all(peers.map((p) => p.call('barrier', { group: 'trio' })));
    // A zero-byte allreduce and broadcast complete without NCCL.
    await Promise.all(peers.map((p) => p.call('cudaAllreduce', { group: 'trio', bytes: [], dtype: 'int32' })));
  });
});

test.serial('dtypes NCCL lacks, and collectives the ranks disagree on, fail without breaking the group', async (t) => {
  await withPeers(2, async (peers) => {
    await createGroup(peers, 'picky');
    const int16 = await t.throwsAsync(peers[0].call('cudaAllreduce', { group: 'picky', bytes: [1, 0], dtype: 'int16' }), { instanceOf: PeerError });
    t.is(int16!.code, 'NCCL_UNSUPPORTED_DTYPE');
    t.is((int16 as PeerError).transportKind, 'INVALID');
    t.regex(int16!.message, /NCCL has no 16-bit integer type/);
    const odd = await t.throwsAsync(peers[0].call('cudaAllreduce', { group: 'picky', bytes: [1, 2, 3], dtype: 'float32' }), { instanceOf: PeerError });
    t.is(odd!.code, 'NCCL_INVALID_ARGUMENT');
    const [a, b] = await Promise.allSettled([
      peers[0].call('cudaAllreduce', { group: 'picky', bytes: encode('float32', [1, 2]), dtype: 'float32' }),
      peers[1].call('cudaAllreduce', { group: 'picky', bytes: encode('float32', [1, 2, 3]), dtype: 'float32' }),
    ]);
    for (const r of [a, b]) {
      t.is(r.status, 'rejected');
      const e = (r as PromiseRejectedResult).reason as PeerError;
      t.is(e.code, 'NCCL_COLLECTIVE_MISMATCH');
      t.regex(e.message, /collective #\d+ differs between ranks: rank 0 calls allreduce of 8 bytes .*, rank 1 calls allreduce of 12 bytes/);
    }
    t.false((await peers[0].call<{ broken: boolean }>('status', { group: 'picky' })).broken);
    await Promise.all(peers.map((p) => p.call('barrier', { group: 'picky' })));
  });
});

test.serial('fp8 needs NCCL 2.24: an older NCCL refuses it by name', async (t) => {
  await withNcclPeers([{ TENSORWIRE_MOCK_NCCL_VERSION: '2.21.5' }, { TENSORWIRE_MOCK_NCCL_VERSION: '2.21.5' }], async (peers) => {
    await createGroup(peers, 'old');
    const e = await t.throwsAsync(peers[0].call('cudaAllreduce', { group: 'old', bytes: [1], dtype: 'float8_e4m3fn' }), { instanceOf: PeerError });
    t.is(e!.code, 'NCCL_UNSUPPORTED_DTYPE');
    const got = await Promise.all(peers.map((p) => p.call<number[]>('cudaAllreduce', { group: 'old', bytes: encode('bfloat16', [1, 2]), dtype: 'bfloat16' })));
    t.deepEqual(decode('bfloat16', got[0]), [2, 4]);
  });
});
