/** CUDA tensors of every dtype: factories, copies both ways and between devices, element access, sums. */
import './test/driver-under-test';
import test from 'ava';
import { DTYPES, InvalidArgumentError, Tensor, type DType } from '@tensorwire/core';
import { deviceCount, memoryStats } from './index';

/** A second device when there is one (the mock has two), else the first again. */
const SECOND = deviceCount() > 1 ? 1 : 0;

/** A small CPU specimen of `dtype` with distinct values. */
function specimen(dtype: DType): Tensor {
  if (dtype === 'bool') return new Tensor(new Uint8Array([1, 0, 1, 1, 0, 1]), [2, 3], { dtype });
  if (dtype === 'int64') return new Tensor(new BigInt64Array([-3n, 2n ** 40n, 5n, 0n, 7n, -(2n ** 62n)]), [2, 3]);
  return Tensor.arange(-2, 4, 1, { dtype }).reshape([2, 3]);
}

for (const dtype of DTYPES) {
  test(`${dtype}: to the device and back, between devices, async, clone, element access, sum`, async (t) => {
    const a = specimen(dtype);
    const g = a.cuda();
    t.is(g.device, 'cuda:0');
    t.is(g.dtype, dtype);
    t.deepEqual(g.shape, [2, 3]);
    t.is(typeof g.devicePtr, 'bigint');
    t.throws(() => g.data, { instanceOf: InvalidArgumentError, message: /on cuda:0; call \.cpu\(\)/ });
    t.true(g.cpu().equals(a));
    const g1 = g.to(`cuda:${SECOND}`);
    t.is(g1.device, `cuda:${SECOND}`);
    t.true((await g1.cpuAsync()).equals(a));
    const g1b = await g.toAsync(`cuda:${SECOND}`);
    t.true(g1b.equals(a));
    t.true((await a.cudaAsync(SECOND)).equals(a));
    const c = g.clone();
    t.not(c.devicePtr, g.devicePtr);
    t.true(c.equals(a));
    t.deepEqual(g.toArray(), a.toArray());
    t.is(g.at(1, 2), a.at(1, 2));
    t.is(g.sum(), a.sum());
    t.is(g.reshape([6]).devicePtr, g.devicePtr);
    for (const x of [g, g1, g1b, c]) x.release();
  });
}

test('factories on the device: zeros, ones, full, empty, randn, arange of every dtype', (t) => {
  for (const dtype of DTYPES) {
    const z = Tensor.zeros([3, 5], { dtype, device: `cuda:${SECOND}` });
    t.is(z.device, `cuda:${SECOND}`);
    t.true(z.equals(Tensor.zeros([3, 5], { dtype })), dtype);
    const value = dtype === 'bool' ? true : dtype === 'int64' ? 2n ** 50n + 1n : dtype.startsWith('uint') || dtype === 'int8' ? 7 : -1.5;
    const f = Tensor.full([7], value, { dtype, device: 'cuda' });
    t.true(f.equals(Tensor.full([7], value, { dtype })), `${dtype} full`);
    t.true(Tensor.ones([2], { dtype, device: 'cuda' }).equals(Tensor.ones([2], { dtype })), `${dtype} ones`);
    t.is(Tensor.empty([4], dtype, { device: 'cuda' }).nbytes, 4 * Tensor.zeros([1], { dtype }).nbytes);
    t.true(Tensor.randn([9], { dtype, seed: 3, device: 'cuda' }).equals(Tensor.randn([9], { dtype, seed: 3 }), { nanEqual: true }), `${dtype} randn`);
    t.true(Tensor.arange(5, undefined, 1, { dtype, device: 'cuda' }).equals(Tensor.arange(5, undefined, 1, { dtype })), `${dtype} arange`);
  }
});

test('zero-sized and scalar tensors', async (t) => {
  const e = Tensor.zeros([0, 3], { device: 'cuda' });
  t.is(e.nbytes, 0);
  t.deepEqual(e.cpu().shape, [0, 3]);
  t.deepEqual((await e.toAsync(`cuda:${SECOND}`)).shape, [0, 3]);
  t.is(e.sum(), 0);
  const s = Tensor.full([], 4, { device: 'cuda', dtype: 'int16' });
  t.is(s.item(), 4);
  t.deepEqual(s.toArray(), 4);
});

test('cuda:N that does not exist, and the statistics of both devices', (t) => {
  const n = deviceCount();
  t.throws(() => Tensor.ones([1]).cuda(n), { instanceOf: InvalidArgumentError, message: new RegExp(`cuda:${n} does not exist: this process sees ${n} CUDA device\\(s\\)`) });
  const devices = memoryStats().map((s) => s.device);
  t.deepEqual(devices, [...new Set(['cuda:0', `cuda:${SECOND}`])]);
});
