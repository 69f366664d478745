import test from 'ava';
import { inspect } from 'util';
import { DeviceUnavailableError, InvalidArgumentError, RuntimeStateError, TransportUnavailableError } from '../errors/errors';
import { countDevices, registerDeviceBackend, unregisterDeviceBackend, type DeviceBackend, type DeviceBuffer } from './device';
import { DTYPES, dtypeSize } from './dtypes';
import { Tensor } from './tensor';

test('constructor wraps the TypedArray without copying', (t) => {
  const a = new Float32Array([1, 2, 3, 4, 5, 6]);
  const x = new Tensor(a, [2, 3]);
  t.is(x.data, a);
  t.is(x.dtype, 'float32');
  t.deepEqual(x.shape, [2, 3]);
  t.is(x.numel, 6);
  t.is(x.nbytes, 24);
  t.is(x.device, 'cpu');
  t.is(x.devicePtr, undefined);
  t.is(x.bytes().buffer, a.buffer);
  t.true(Object.isFrozen(x.shape));
  a[0] = 42;
  t.is(x.toArray() instanceof Array ? (x.toArray() as number[][])[0]![0] : 0, 42);
});

test('constructor infers dtypes and shape, honours dtype for Uint16Array/Uint8Array', (t) => {
  t.is(new Tensor(new Float64Array(2)).dtype, 'float64');
  t.is(new Tensor(new Int8Array(2)).dtype, 'int8');
  t.is(new Tensor(new Int16Array(2)).dtype, 'int16');
  t.is(new Tensor(new Int32Array(2)).dtype, 'int32');
  t.is(new Tensor(new BigInt64Array(2)).dtype, 'int64');
  t.is(new Tensor(new Uint8Array(2)).dtype, 'uint8');
  t.is(new Tensor(Buffer.alloc(2)).dtype, 'uint8');
  t.is(new Tensor(new Uint8Array(2), undefined, { dtype: 'bool' }).dtype, 'bool');
  t.is(new Tensor(new Uint16Array(2), [2], { dtype: 'bfloat16' }).dtype, 'bfloat16');
  t.deepEqual(new Tensor(new Float32Array(5)).shape, [5]);
  t.throws(() => new Tensor(new Uint16Array(2)), { instanceOf: InvalidArgumentError, message: /float16/ });
  t.throws(() => new Tensor(new Uint32Array(2) as never), { instanceOf: InvalidArgumentError, message: /Uint32Array/ });
  t.throws(() => new Tensor(new Float32Array(2), [2], { dtype: 'int32' }), { instanceOf: InvalidArgumentError, message: /Int32Array/ });
  t.throws(() => new Tensor(new Float32Array(6), [4, 2]), {
    instanceOf: InvalidArgumentError,
    message: 'shape [4, 2] holds 8 elements but the Float32Array has 6',
  });
  t.throws(() => new Tensor(new Float32Array(6), [-1, 6]), { instanceOf: InvalidArgumentError });
});

test('scalars and empty tensors', (t) => {
  const s = new Tensor(new Float32Array([7]), []);
  t.is(s.numel, 1);
  t.is(s.toArray(), 7);
  t.is(s.sum(), 7);
  t.is(s.add(1).toArray(), 8);
  t.is(Tensor.full([], 3, { dtype: 'int64' }).toArray(), 3n);
  const e = Tensor.zeros([0]);
  t.is(e.numel, 0);
  t.is(e.nbytes, 0);
  t.is(e.sum(), 0);
  t.deepEqual(e.toArray(), []);
  t.true(e.add(e).equals(e));
  t.deepEqual(Tensor.zeros([2, 0]).toArray(), [[], []]);
  t.is(Tensor.zeros([3, 0, 2]).numel, 0);
  t.is(Tensor.arange(0).numel, 0);
  t.true(Tensor.zeros([]).equals(new Tensor(new Float32Array(1), [])));
});

test('factories: zeros, ones, full, arange, empty, randn', (t) => {
  t.deepEqual(Tensor.zeros([2, 2]).toArray(), [[0, 0], [0, 0]]);
  t.deepEqual(Tensor.ones([3], { dtype: 'int32' }).toArray(), [1, 1, 1]);
  t.deepEqual(Tensor.ones([2], { dtype: 'bool' }).toArray(), [true, true]);
  t.deepEqual(Tensor.ones([2], { dtype: 'float16' }).toArray(), [1, 1]);
  t.deepEqual(Tensor.full([2], 2.5, { dtype: 'bfloat16' }).toArray(), [2.5, 2.5]);
  t.deepEqual(Tensor.full([2], 2n ** 60n, { dtype: 'int64' }).toArray(), [2n ** 60n, 2n ** 60n]);
  t.deepEqual(Tensor.full([1], true, { dtype: 'bool' }).toArray(), [true]);
  t.deepEqual(Tensor.arange(4).toArray(), [0, 1, 2, 3]);
  t.deepEqual(Tensor.arange(1, 7, 2).toArray(), [1, 3, 5]);
  t.deepEqual(Tensor.arange(3, 0, -1, { dtype: 'int64' }).toArray(), [3n, 2n, 1n]);
  t.deepEqual(Tensor.arange(0, 1, 0.25, { dtype: 'float64' }).toArray(), [0, 0.25, 0.5, 0.75]);
  const e = Tensor.empty([2, 3], 'int16');
  t.is(e.dtype, 'int16');
  t.is(e.nbytes, 12);
  const r1 = Tensor.randn([1000], { seed: 7 });
  const r2 = Tensor.randn([1000], { seed: 7 });
  t.true(r1.equals(r2));
  const mean = r1.sum() / 1000;
  t.true(Math.abs(mean) < 0.2);
  const r = Tensor.randn([3, 4]);
  t.deepEqual(r.shape, [3, 4]);
  t.true((r.data as Float32Array).every((v) => Number.isFinite(v)));
  t.throws(() => Tensor.zeros([2], { dtype: 'complex64' as never }), { message: /unknown dtype/ });
});

test('sum, add, mul, add_ for every dtype', (t) => {
  for (const dtype of DTYPES) {
    const a = Tensor.arange(0, 4, 1, { dtype });
    const b = Tensor.ones([4], { dtype });
    const expected = dtype === 'bool' ? 3 : 6;
    t.is(a.sum(), expected, dtype);
    const c = a.add(b);
    t.is(c.dtype, dtype);
    t.is(c.sum(), dtype === 'bool' ? 4 : 10, dtype);
    t.is(a.mul(2).sum(), dtype === 'bool' ? 3 : 12, dtype);
    const before = a.data;
    t.is(a.add_(1), a);
    t.is(a.data, before);
    t.is(a.sum(), dtype === 'bool' ? 4 : 10, dtype);
    t.is(dtypeSize(dtype) * 4, a.nbytes);
  }
});

test('math: int wraparound, int64 exactness, float16 rounding, mismatched shapes', (t) => {
  t.deepEqual(new Tensor(new Int8Array([127])).add(1).toArray(), [-128]);
  t.deepEqual(new Tensor(new Int32Array([0x40000001])).mul(0x40000001).toArray(), [Math.imul(0x40000001, 0x40000001)]);
  const big = new Tensor(new BigInt64Array([2n ** 62n]));
  t.deepEqual(big.add(1).toArray(), [2n ** 62n + 1n]);
  t.deepEqual(big.mul(big).toArray(), [0n]); // wraps modulo 2^64
  t.deepEqual(Tensor.full([1], 1, { dtype: 'float16' }).add(2 ** -11).toArray(), [1]); // tie -> even
  t.deepEqual(Tensor.full([1], 0.1, { dtype: 'float16' }).toArray(), [0.0999755859375]);
  const x = Tensor.zeros([2, 3]);
  t.throws(() => x.add(Tensor.zeros([3, 2])), {
    instanceOf: InvalidArgumentError,
    message: /add: shapes \[2, 3\] and \[3, 2\] differ/,
  });
  t.throws(() => x.mul(Tensor.zeros([6])), { message: /no broadcasting/ });
  t.throws(() => x.add('1' as never), { instanceOf: InvalidArgumentError });
  // mixed dtypes: result has the left operand's dtype
  t.deepEqual(new Tensor(new Int32Array([1, 2])).add(new Tensor(new Float64Array([0.5, 0.5]))).toArray(), [1, 2]);
  t.deepEqual(new Tensor(new Float32Array([1, 2])).add(new Tensor(new BigInt64Array([1n, 2n]))).toArray(), [2, 4]);
  t.deepEqual(new Tensor(new BigInt64Array([1n])).add(Tensor.full([1], 2.5)).toArray(), [3n]);
});

test('toArray follows the shape with numbers, bigints and booleans', (t) => {
  t.deepEqual(Tensor.arange(24).reshape([2, 3, 4]).toArray(), [
    [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]],
    [[12, 13, 14, 15], [16, 17, 18, 19], [20, 21, 22, 23]],
  ]);
  t.deepEqual(new Tensor(new BigInt64Array([1n, -2n]), [2, 1]).toArray(), [[1n], [-2n]]);
  t.deepEqual(new Tensor(new Uint8Array([0, 1, 1, 0]), [2, 2], { dtype: 'bool' }).toArray(), [[false, true], [true, false]]);
  t.deepEqual(new Tensor(new Uint16Array([0x3c00, 0xc000]), [2], { dtype: 'float16' }).toArray(), [1, -2]);
  t.deepEqual(new Tensor(new Uint16Array([0x3f80, 0x7fc0]), [2], { dtype: 'bfloat16' }).toArray(), [1, NaN]);
});

test('clone copies, reshape views, equals compares dtype, shape and values', (t) => {
  const a = Tensor.arange(6);
  const c = a.clone();
  t.not(c.data, a.data);
  t.true(c.equals(a));
  c.add_(1);
  t.false(c.equals(a));
  const r = a.reshape([2, -1]);
  t.deepEqual(r.shape, [2, 3]);
  t.is(r.data, a.data);
  t.throws(() => a.reshape([4, 2]), { instanceOf: InvalidArgumentError, message: /holds 8 elements/ });
  t.throws(() => a.reshape([4, -1]), { message: /cannot infer/ });
  t.false(a.equals(r));
  t.false(a.equals(Tensor.arange(6, undefined, 1, { dtype: 'float64' })));
  const n1 = new Tensor(new Float32Array([NaN, 1]));
  const n2 = new Tensor(new Float32Array([NaN, 1]));
  t.false(n1.equals(n2));
  t.true(n1.equals(n2, { nanEqual: true }));
  t.true(new Tensor(new Float32Array([0])).equals(new Tensor(new Float32Array([-0]))));
  t.false(a.equals({} as never));
});

test('fromBytes: zero-copy when aligned, one copy when not', (t) => {
  const src = new Float64Array([1.5, -2.25, 3]);
  const raw = new Uint8Array(src.buffer);
  const aligned = Tensor.fromBytes(raw, 'float64', [3]);
  t.is(aligned.data.buffer, src.buffer);
  const shifted = new Uint8Array(src.byteLength + 1);
  shifted.set(raw, 1);
  const view = shifted.subarray(1);
  const copied = Tensor.fromBytes(view, 'float64', [3]);
  t.not(copied.data.buffer, shifted.buffer);
  t.deepEqual(copied.toArray(), [1.5, -2.25, 3]);
  t.throws(() => Tensor.fromBytes(raw, 'float64', [2]), { instanceOf: InvalidArgumentError, message: /needs 16 bytes, got 24/ });
  t.is(Tensor.fromBytes(new Uint8Array(0), 'int64', [0, 3]).numel, 0);
});

test('isTensor and toString / inspect', (t) => {
  const a = Tensor.arange(10).reshape([2, 5]);
  t.true(Tensor.isTensor(a));
  t.false(Tensor.isTensor(new Float32Array(1)));
  t.false(Tensor.isTensor(null));
  t.is(a.toString(), 'Tensor(float32, [2, 5], cpu) [0, 1, 2, 3, 4, 5, … 4 more]');
  t.is(inspect(a), a.toString());
  t.is(new Tensor(new BigInt64Array([3n]), []).toString(), 'Tensor(int64, [], cpu) [3n]');
  t.is(Tensor.zeros([0]).toString(), 'Tensor(float32, [0], cpu) []');
});

test('cpu() returns the same tensor; cuda without a backend names the fix', (t) => {
  const a = Tensor.ones([2]);
  t.is(a.cpu(), a);
  t.is(a.to('cpu'), a);
  const attempts = [
    () => a.cuda(), () => a.to('cuda:0'), () => a.to('cuda'), () => Tensor.zeros([2], { device: 'cuda:1' }),
    () => Tensor.empty([2], 'int8', { device: 'cuda' }), () => Tensor.full([2], 3, { device: 'cuda' }),
    () => Tensor.fromDevicePointer(4096n, [2], 'float32', { device: 'cuda:0' }),
  ];
  for (const f of attempts) {
    const err = t.throws(f, { instanceOf: TransportUnavailableError });
    t.true(err instanceof DeviceUnavailableError);
    t.regex(err!.message, /^CUDA is not available here: CUDA tensors need a CUDA device backend, and none is registered/);
    t.regex(err!.message, /registerDeviceBackend\('cuda', backend\)/);
    t.notRegex(err!.message, /npm install|@tensorwire\//, 'core names no device package');
    t.is((err as TransportUnavailableError).code, 'TRANSPORT_UNAVAILABLE');
  }
  t.deepEqual(countDevices('cuda'), { count: 0, reason: "no 'cuda' device backend is registered in this process" });
  t.throws(() => a.to('tpu'), { instanceOf: InvalidArgumentError, message: /unknown device "tpu"/ });
});

/** A fake CUDA backend over host memory: lets the device paths run without a GPU. */
function fakeCuda(): DeviceBackend & { mem: Map<bigint, Uint8Array> } {
  const mem = new Map<bigint, Uint8Array>();
  let next = 0x1000n;
  return {
    mem,
    deviceCount: () => 2,
    allocate(deviceIndex: number, nbytes: number): DeviceBuffer {
      const devicePtr = next;
      next += BigInt(nbytes) + 256n;
      mem.set(devicePtr, new Uint8Array(nbytes));
      return { devicePtr, nbytes, deviceIndex };
    },
    copyFromHost(dst, src) {
      mem.get(dst.devicePtr)!.set(src);
    },
    copyToHost(src, dst) {
      dst.set(mem.get(src.devicePtr)!.subarray(0, dst.byteLength));
    },
  };
}

test.serial('with a device backend: cuda(), to(), clone, reshape, cpu() round-trip', (t) => {
  const backend = fakeCuda();
  registerDeviceBackend('cuda', backend);
  try {
    const a = Tensor.arange(6, undefined, 1, { dtype: 'float16' }).reshape([2, 3]);
    const g = a.cuda();
    t.is(g.device, 'cuda:0');
    t.is(typeof g.devicePtr, 'bigint');
    t.is(g.nbytes, 12);
    t.throws(() => g.data, { instanceOf: InvalidArgumentError, message: /on cuda:0; call \.cpu\(\)/ });
    t.throws(() => g.bytes(), { instanceOf: InvalidArgumentError });
    t.is(g.sum(), 15); // through a copy to the host
    t.is(g.to('cuda:0'), g);
    const g1 = g.to('cuda:1');
    t.is(g1.device, 'cuda:1');
    t.not(g1.devicePtr, g.devicePtr);
    t.true(g1.cpu().equals(a));
    t.true(g.clone().cpu().equals(a));
    t.deepEqual(g.reshape([6]).shape, [6]);
    t.is(g.reshape([6]).devicePtr, g.devicePtr);
    t.true(g.equals(a.cuda(1)));
    t.is(g.toString(), 'Tensor(float16, [2, 3], cuda:0)');
    t.throws(() => a.cuda(2), { instanceOf: InvalidArgumentError, message: /cuda:2 does not exist/ });
    t.deepEqual(new Tensor(new Int32Array([1, 2]), [2], { device: 'cuda:1' }).cpu().toArray(), [1, 2]);
  } finally {
    unregisterDeviceBackend('cuda');
  }
});

/** The fake backend with the optional SPI members: free, fill, async copies, wrap, stats. */
function fullFakeCuda(): DeviceBackend & { mem: Map<bigint, Uint8Array>; freed: bigint[]; asyncCopies: number } {
  const base = fakeCuda();
  const freed: bigint[] = [];
  const region = (ptr: bigint): [Uint8Array, number] => {
    for (const [start, bytes] of base.mem) {
      if (ptr >= start && ptr < start + BigInt(bytes.byteLength) + 1n) return [bytes, Number(ptr - start)];
    }
    throw new InvalidArgumentError(`0x${ptr.toString(16)} is not device memory`);
  };
  const self = {
    ...base,
    freed,
    asyncCopies: 0,
    copyFromHost(dst: DeviceBuffer, src: Uint8Array) {
      const [bytes, offset] = region(dst.devicePtr);
      bytes.set(src, offset);
    },
    copyToHost(src: DeviceBuffer, dst: Uint8Array) {
      const [bytes, offset] = region(src.devicePtr);
      dst.set(bytes.subarray(offset, offset + dst.byteLength));
    },
    free(b: DeviceBuffer) {
      freed.push(b.devicePtr);
    },
    fill(dst: DeviceBuffer, element: Uint8Array) {
      const [bytes] = region(dst.devicePtr);
      for (let i = 0; i < dst.nbytes; i++) bytes[i] = element[i % element.byteLength]!;
    },
    async copyFromHostAsync(dst: DeviceBuffer, src: Uint8Array) {
      self.asyncCopies++;
      await new Promise((r) => setImmediate(r));
      self.copyFromHost(dst, src);
    },
    async copyToHostAsync(src: DeviceBuffer, dst: Uint8Array) {
      self.asyncCopies++;
      await new Promise((r) => setImmediate(r));
      self.copyToHost(src, dst);
    },
    wrap(devicePtr: bigint, nbytes: number, deviceIndex: number): DeviceBuffer {
      const [bytes, offset] = region(devicePtr);
      if (offset + nbytes > bytes.byteLength) throw new InvalidArgumentError('runs past the end of its allocation');
      return { devicePtr, nbytes, deviceIndex };
    },
  };
  return self;
}

test.serial('device factories fill on the device; at(), item() and sum() read through the host', (t) => {
  const backend = fullFakeCuda();
  registerDeviceBackend('cuda', backend);
  try {
    const z = Tensor.zeros([2, 2], { device: 'cuda:1', dtype: 'int64' });
    t.is(z.device, 'cuda:1');
    t.deepEqual(z.toArray(), [[0n, 0n], [0n, 0n]]);
    const f = Tensor.full([3], 2.5, { device: 'cuda', dtype: 'float16' });
    t.deepEqual(f.toArray(), [2.5, 2.5, 2.5]);
    t.is(f.sum(), 7.5);
    t.is(f.at(1), 2.5);
    t.is(Tensor.full([1, 1], true, { device: 'cuda', dtype: 'bool' }).item(), true);
    t.is(Tensor.ones([], { device: 'cuda', dtype: 'int64' }).item(), 1n);
    t.throws(() => f.item(), { instanceOf: InvalidArgumentError, message: /3 elements/ });
    t.throws(() => f.at(3), { instanceOf: InvalidArgumentError, message: /out of range/ });
    const e = Tensor.empty([4], 'int32', { device: 'cuda:0' });
    t.is(e.nbytes, 16);
    t.is(Tensor.zeros([0], { device: 'cuda' }).numel, 0);
    t.is(Tensor.arange(4, undefined, 1, { dtype: 'int32' }).at(3), 3);
  } finally {
    unregisterDeviceBackend('cuda');
  }
});

test.serial('release() frees device memory once; views and later uses fail with RuntimeStateError', (t) => {
  const backend = fullFakeCuda();
  registerDeviceBackend('cuda', backend);
  try {
    const g = Tensor.ones([6], { device: 'cuda' });
    const view = g.reshape([2, 3]);
    const ptr = g.devicePtr!;
    g.release();
    g.release();
    t.deepEqual(backend.freed, [ptr], 'freed once');
    t.true(g.released);
    t.true(view.released);
    for (const use of [() => g.cpu(), () => view.sum(), () => g.devicePtr, () => view.clone(), () => g.deviceBuffer]) {
      t.throws(use, { instanceOf: RuntimeStateError, message: /device memory was released/ });
    }
    t.is(g.toString(), 'Tensor(float32, [6], cuda:0, released)');
    const c = Tensor.ones([2]);
    c.release();
    t.true(c.released);
    t.throws(() => c.data, { instanceOf: RuntimeStateError, message: /CPU tensor was released/ });
  } finally {
    unregisterDeviceBackend('cuda');
  }
});

test.serial('fromDevicePointer wraps memory without a copy, keeps keepAlive, never frees it', async (t) => {
  const backend = fullFakeCuda();
  registerDeviceBackend('cuda', backend);
  try {
    const owner = Tensor.arange(8, undefined, 1, { dtype: 'int32', device: 'cuda' });
    const ptr = owner.devicePtr! + 8n; // elements 2..7
    const w = Tensor.fromDevicePointer(ptr, [2, 3], 'int32', { device: 'cuda:0', keepAlive: owner });
    t.is(w.devicePtr, ptr);
    t.deepEqual(w.toArray(), [[2, 3, 4], [5, 6, 7]]);
    w.release();
    t.deepEqual(backend.freed, [], 'foreign memory is not freed');
    t.throws(() => Tensor.fromDevicePointer(ptr + 2n, [1], 'int32', { device: 'cuda' }), { message: /not aligned/ });
    t.throws(() => Tensor.fromDevicePointer(ptr, [100], 'int32', { device: 'cuda' }), { message: /past the end/ });
    t.throws(() => Tensor.fromDevicePointer(ptr, [1], 'int32', { device: 'cpu' }), { instanceOf: InvalidArgumentError });
    t.throws(() => Tensor.fromDevicePointer(5 as unknown as bigint, [1], 'int32', { device: 'cuda' }), { message: /bigint/ });
  } finally {
    unregisterDeviceBackend('cuda');
  }
});

test.serial('toAsync uses the async copies and resolves to a copy (or the tensor itself)', async (t) => {
  const backend = fullFakeCuda();
  registerDeviceBackend('cuda', backend);
  try {
    const a = Tensor.arange(5, undefined, 1, { dtype: 'float64' });
    t.is(await a.toAsync('cpu'), a);
    const g = await a.cudaAsync(1);
    t.is(g.device, 'cuda:1');
    const back = await g.cpuAsync();
    t.true(back.equals(a));
    t.is(backend.asyncCopies, 2);
    const g2 = await g.toAsync('cuda:0'); // no async D2D in this fake: the synchronous one
    t.true(g2.cpu().equals(a));
    g.release();
    await t.throwsAsync(g.cpuAsync(), { instanceOf: RuntimeStateError });
  } finally {
    unregisterDeviceBackend('cuda');
  }
});
