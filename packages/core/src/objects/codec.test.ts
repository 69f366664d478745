import test from 'ava';
import { InvalidArgumentError } from '../errors/errors';
import { DTYPES, type DType } from '../tensor/dtypes';
import { Tensor } from '../tensor/tensor';
import { MARK, decodeValue, encodeValue, extractTensors, restoreTensors, type CodecHooks } from './codec';

function roundTrip<T>(value: T, hooks?: CodecHooks): T {
  const { skeleton, attachments } = encodeValue(value, hooks);
  return decodeValue(skeleton, attachments, hooks) as T;
}

/** Bytes of a typed array / tensor, for bit-exact comparisons. */
function bytesOf(x: ArrayBufferView | Tensor): number[] {
  const v = Tensor.isTensor(x) ? x.bytes() : new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  return [...v];
}

/** Interesting bit patterns for each dtype (NaN payloads, -0, subnormals, extremes). */
function specimen(dtype: DType, shape: number[]): Tensor {
  const t = Tensor.empty(shape, dtype);
  const d = t.data;
  const raw = t.bytes();
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37 + 11) & 0xff; // every byte pattern class
  if (dtype === 'bool') for (let i = 0; i < d.length; i++) d[i] = i % 2;
  return t;
}

for (const dtype of DTYPES) {
  for (const shape of [[], [0], [2, 3, 4]]) {
    test(`${dtype} tensor of shape [${shape}] round-trips bit-exact`, (t) => {
      const x = specimen(dtype, shape);
      const enc = encodeValue({ x });
      t.is(enc.attachments.length, 1);
      t.is(enc.attachments[0]!.buffer, x.data.buffer); // zero-copy on encode
      const y = (decodeValue(enc.skeleton, enc.attachments) as { x: Tensor }).x;
      t.true(Tensor.isTensor(y));
      t.true(y instanceof Tensor);
      t.is(y.dtype, dtype);
      t.deepEqual(y.shape, shape);
      t.is(y.device, 'cpu');
      t.deepEqual(bytesOf(y), bytesOf(x));
      t.is(y.data.buffer, x.data.buffer); // aligned attachment: zero-copy on decode too
    });
  }
}

test('every TypedArray class comes back as itself; Buffers stay Buffers; DataView and ArrayBuffer too', (t) => {
  const value = {
    i8: new Int8Array([-1, 2]),
    u8: new Uint8Array([1, 255]),
    u8c: new Uint8ClampedArray([3, 4]),
    i16: new Int16Array([-300]),
    u16: new Uint16Array([65535]),
    i32: new Int32Array([-5]),
    u32: new Uint32Array([4294967295]),
    f32: new Float32Array([1.5, NaN]),
    f64: new Float64Array([-0, Infinity]),
    i64: new BigInt64Array([-(2n ** 63n)]),
    u64: new BigUint64Array([2n ** 64n - 1n]),
    buf: Buffer.from('hello'),
    dv: new DataView(new ArrayBuffer(4)),
    ab: new Uint8Array([9, 8, 7]).buffer,
  };
  value.dv.setInt32(0, -123456);
  const out = roundTrip(value);
  for (const [k, v] of Object.entries(value)) {
    const o = (out as Record<string, unknown>)[k] as object;
    t.is(Object.getPrototypeOf(o), Object.getPrototypeOf(v), k);
    if (ArrayBuffer.isView(v)) t.deepEqual(bytesOf(o as ArrayBufferView), bytesOf(v), k);
  }
  t.true(Buffer.isBuffer(out.buf));
  t.is(out.buf.toString(), 'hello');
  t.is(out.dv.getInt32(0), -123456);
  t.deepEqual([...new Uint8Array(out.ab)], [9, 8, 7]);
  t.true(Object.is(out.f64[0], -0));
});

test('encode takes views without copying, even for a pooled Buffer slice and a subarray', (t) => {
  const big = new Float32Array(1024);
  const sub = big.subarray(10, 20);
  const small = Buffer.from('pooled'); // lives inside Node's shared pool
  const { attachments } = encodeValue([sub, small]);
  t.is(attachments[0]!.buffer, big.buffer);
  t.is(attachments[0]!.byteOffset, 40);
  t.is(attachments[0]!.byteLength, 40);
  t.is(attachments[1]!.buffer, small.buffer);
  t.is(attachments[1]!.byteLength, 6); // only the slice, not the 8 KiB pool
});

test('shared references: sent once, decoded as one object; equal ranges deduplicated', (t) => {
  const a = new Float64Array([1, 2, 3]);
  const x = Tensor.arange(4);
  const alias = new Float64Array(a.buffer); // a different view over the same range
  const value = { a, again: a, list: [a, x, x], alias };
  const enc = encodeValue(value);
  t.is(enc.attachments.length, 2);
  const out = decodeValue(enc.skeleton, enc.attachments) as typeof value;
  t.is(out.again, out.a);
  t.is(out.list[0], out.a);
  t.is(out.list[1], out.list[2]);
  t.deepEqual([...out.alias], [1, 2, 3]);
});

test('unaligned attachments on decode are copied correctly', (t) => {
  const value = { f: new Float64Array([1.25, -7]), x: Tensor.full([2, 2], 3, { dtype: 'int32' }), h: new Uint16Array([0x3c00]) };
  const enc = encodeValue(value);
  const moved = enc.attachments.map((a) => {
    const backing = new Uint8Array(a.byteLength + 1);
    backing.set(a, 1);
    return backing.subarray(1); // odd byteOffset: misaligned for every multi-byte type
  });
  const out = decodeValue(enc.skeleton, moved) as typeof value;
  t.deepEqual([...out.f], [1.25, -7]);
  t.not(out.f.buffer, moved[0]!.buffer);
  t.deepEqual(out.x.toArray(), [[3, 3], [3, 3]]);
  t.deepEqual([...out.h], [0x3c00]);
  // aligned ones are views
  const aligned = enc.attachments.map((a) => new Uint8Array(a));
  const out2 = decodeValue(enc.skeleton, aligned) as typeof value;
  t.is(out2.f.buffer, aligned[0]!.buffer);
});

test('nested structures: arrays in maps in sets in objects, tensors as Map keys', (t) => {
  const key = Tensor.ones([1]);
  const inner = new Map<unknown, unknown>([
    ['arr', [Tensor.arange(3), { deep: [new Int16Array([5])] }]],
    [key, 'tensor key'],
  ]);
  const value = { s: new Set([inner, 7, 'x']), date: new Date(5), re: /a+/g, big: 10n ** 30n, u: undefined, n: NaN, err: new RangeError('boom') };
  const out = roundTrip(value);
  const [m, seven, x] = [...out.s] as [Map<unknown, unknown>, number, string];
  t.is(seven, 7);
  t.is(x, 'x');
  const arr = m.get('arr') as [Tensor, { deep: [Int16Array] }];
  t.deepEqual(arr[0].toArray(), [0, 1, 2]);
  t.deepEqual([...arr[1].deep[0]], [5]);
  const keys = [...m.keys()];
  t.true(Tensor.isTensor(keys[1]));
  t.is(m.get(keys[1]), 'tensor key');
  t.is(out.date.getTime(), 5);
  t.is(out.re.source, 'a+');
  t.is(out.big, 10n ** 30n);
  t.true('u' in out && out.u === undefined);
  t.true(Number.isNaN(out.n));
  t.true(out.err instanceof RangeError);
  t.is(out.err.message, 'boom');
});

test('circular plain data survives', (t) => {
  const a: Record<string, unknown> = { name: 'a', t: Tensor.ones([2]) };
  a.self = a;
  a.list = [a];
  const out = roundTrip(a);
  t.is(out.self, out);
  t.is((out.list as unknown[])[0], out);
  t.deepEqual((out.t as Tensor).toArray(), [1, 1]);
});

test('class instances go as plain objects (like v8.serialize), tensors inside are found', (t) => {
  class Point {
    constructor(public x: number, public t: Tensor) {}
  }
  const out = roundTrip({ p: new Point(1, Tensor.ones([1])) }) as { p: { x: number; t: Tensor } };
  t.is(out.p.x, 1);
  t.true(Tensor.isTensor(out.p.t));
});

test('user keys that look like markers are escaped', (t) => {
  const value = { [MARK]: 'tensor', i: 0, [MARK + MARK]: 'x', nested: { [MARK]: 'hook', tag: 't', data: 1 } };
  const out = roundTrip(value);
  t.deepEqual(out, value);
});

test('__proto__ as a key stays a key', (t) => {
  const value = JSON.parse('{"__proto__": {"polluted": 1}, "a": [1]}');
  const out = roundTrip(value) as Record<string, unknown>;
  t.is(Object.getPrototypeOf(out), Object.prototype);
  t.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, { polluted: 1 });
});

class Ref {
  constructor(readonly id: string, readonly payload?: unknown) {}
}

test('hooks replace and revive, and their data is walked for tensors', (t) => {
  const replaced: unknown[] = [];
  const hooks: CodecHooks = {
    replace(v) {
      if (v instanceof Ref) {
        replaced.push(v);
        return { tag: 'ref', data: { id: v.id, payload: v.payload } };
      }
      return undefined;
    },
    revive(tag, data) {
      t.is(tag, 'ref');
      const d = data as { id: string; payload?: unknown };
      return new Ref(d.id, d.payload);
    },
  };
  const r = new Ref('obj-1', Tensor.arange(3, undefined, 1, { dtype: 'int64' }));
  const value = { args: [r, { again: r }], m: new Map([[new Ref('k'), 1]]) };
  const enc = encodeValue(value, hooks);
  t.is(enc.attachments.length, 1);
  t.is(replaced.length, 2); // the shared Ref is replaced once
  const out = decodeValue(enc.skeleton, enc.attachments, hooks) as typeof value;
  const back = out.args[0] as Ref;
  t.true(back instanceof Ref);
  t.is(back.id, 'obj-1');
  t.deepEqual((back.payload as Tensor).toArray(), [0n, 1n, 2n]);
  t.is((out.args[1] as { again: Ref }).again, back);
  t.true([...out.m.keys()][0] instanceof Ref);
  t.throws(() => decodeValue(enc.skeleton, enc.attachments), {
    instanceOf: InvalidArgumentError,
    message: /'ref' object at value\.args\[0\] but no revive hook/,
  });
});

test('unserializable values fail with the path in the message', (t) => {
  const cases: Array<[unknown, string]> = [
    [[1, { callback: () => 1 }], 'cannot serialize a function at args[1].callback; pass plain data, Tensors or TypedArrays'],
    [{ 'a b': [Symbol('s')] }, 'cannot serialize a symbol at args["a b"][0]; pass plain data, Tensors or TypedArrays'],
    [new Map([['k', Promise.resolve(1)]]), 'cannot serialize a Promise (await it first) at args.get("k"); pass plain data, Tensors or TypedArrays'],
    [new Set([1, new WeakMap()]), 'cannot serialize a WeakMap at args<set item #1>; pass plain data, Tensors or TypedArrays'],
  ];
  for (const [value, message] of cases) {
    t.throws(() => encodeValue(value, { rootName: 'args' }), { instanceOf: InvalidArgumentError, message });
  }
  t.throws(() => encodeValue({ f() {} }), { message: /at value\.f;/ });
});

test('a 256 MiB Float32Array encodes without copying and decodes as a view', (t) => {
  const big = new Float32Array(64 * 1024 * 1024);
  big[big.length - 1] = 3.5;
  const enc = encodeValue({ big, t: new Tensor(big, [8192, 8192]) });
  t.is(enc.attachments.length, 1); // the tensor and the array share the bytes
  t.is(enc.attachments[0]!.buffer, big.buffer);
  t.true(enc.skeleton.length < 200);
  const out = decodeValue(enc.skeleton, enc.attachments) as { big: Float32Array; t: Tensor };
  t.is(out.big.buffer, big.buffer);
  t.is(out.t.data.buffer, big.buffer);
  t.is(out.big[out.big.length - 1], 3.5);
});

test('100k small elements walk linearly', (t) => {
  const value = Array.from({ length: 100_000 }, (_, i) => ({ i, v: [i, i + 1], s: 'x' }));
  const out = roundTrip(value);
  t.is(out.length, 100_000);
  t.deepEqual(out[99_999], { i: 99_999, v: [99_999, 100_000], s: 'x' });
  const arr = Array.from({ length: 100_000 }, (_, i) => i);
  t.deepEqual(roundTrip(arr), arr);
});

test('extractTensors / restoreTensors: same Tensor objects back, input untouched', (t) => {
  const a = Tensor.arange(4);
  const b = Tensor.ones([2, 2], { dtype: 'bfloat16' });
  class Holder {
    constructor(public t: Tensor, public label = 'h') {}
    hello(): string {
      return this.label;
    }
  }
  class NoTensor {
    n = 1;
  }
  const plainOnly = new NoTensor();
  const value = { a, list: [b, a, new Map([['b', b]])], set: new Set([a]), h: new Holder(b), plainOnly, step: 3 };
  const { skeleton, tensors } = extractTensors(value);
  t.is(tensors.length, 2);
  t.is(tensors[0], a);
  t.is(tensors[1], b);
  t.is(value.a, a); // input not modified
  t.is((skeleton as typeof value).plainOnly, plainOnly); // instances without tensors kept as is
  t.false(Tensor.isTensor((skeleton as typeof value).a));
  const back = restoreTensors(skeleton, tensors) as typeof value;
  t.is(back.a, a);
  t.is(back.list[0], b);
  t.is(back.list[1], a);
  t.is((back.list[2] as Map<string, Tensor>).get('b'), b);
  t.true(back.set.has(a));
  t.true(back.h instanceof Holder);
  t.is(back.h.t, b);
  t.is(back.h.hello(), 'h');
  t.is(back.step, 3);
  // restoring twice works (the skeleton is not consumed)
  t.is((restoreTensors(skeleton, tensors) as typeof value).a, a);
  t.throws(() => restoreTensors(skeleton, [a]), { instanceOf: InvalidArgumentError, message: /tensor #1 .* is missing/ });
});

test('extract -> encode -> decode -> restore: the skeleton travels, tensors do not', (t) => {
  const a = Tensor.randn([3], { seed: 1 });
  const value = { a, meta: { tag: 'x', [MARK]: 'user key' }, d: new Date(1) };
  const { skeleton, tensors } = extractTensors(value);
  const enc = encodeValue(skeleton);
  t.is(enc.attachments.length, 0);
  const travelled = decodeValue(enc.skeleton, enc.attachments);
  const back = restoreTensors(travelled, tensors) as typeof value;
  t.is(back.a, a);
  t.deepEqual(back.meta, value.meta);
  t.is(back.d.getTime(), 1);
});

test('scalars and odd roots encode', (t) => {
  for (const v of [undefined, null, 0, 'str', true, 5n, [], {}]) t.deepEqual(roundTrip(v), v);
  const x = roundTrip(Tensor.full([], 2, { dtype: 'float16' }));
  t.is(x.toArray(), 2);
  t.true(Buffer.isBuffer(roundTrip(Buffer.alloc(0))));
});
