/**
 * Values the system-level tests make in actors and rebuild in the driver from the same recipe,
 * and a fingerprint that compares them across processes (tensors by dtype, shape, device and a
 * hash of every byte; Buffers by kind and bytes; structure exactly).
 */
import { createHash } from 'node:crypto';
import { cudaCore } from '../testing/cuda-tensors';
import { fillPattern } from '../testing/pattern';
import { core, type TensorLike } from './core-api';

export const DTYPE_SIZE: Readonly<Record<string, number>> = {
  bool: 1, uint8: 1, int8: 1, float16: 2, bfloat16: 2, int16: 2, float32: 4, int32: 4, float64: 8, int64: 8,
};
export const ALL_DTYPES = Object.keys(DTYPE_SIZE);

/** How to make one tensor: never-zero pattern bytes of `seed` (0/1 for bool), on `device` (default the CPU). */
export interface TensorRecipe {
  readonly seed: number;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** 'cuda:0' for the CUDA variant of the system tests. */
  readonly device?: string;
}

/** `t` on `device` (a copy through the 'cuda' device backend, loaded when the transport did not load one). */
function onDevice(t: TensorLike, device: string | undefined): TensorLike {
  if (device === undefined || device === 'cpu') return t;
  cudaCore();
  return t.to(device);
}

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function makeTensor(r: TensorRecipe): TensorLike {
  const bytes = new Uint8Array(numelOf(r.shape) * DTYPE_SIZE[r.dtype]);
  fillPattern(bytes, r.seed);
  if (r.dtype === 'bool') for (let i = 0; i < bytes.length; i++) bytes[i] &= 1;
  return onDevice(core.Tensor.fromBytes(bytes, r.dtype, r.shape), r.device);
}

/** int32 0..n-1 (on `device`, default the CPU): sums are exact and known (n(n-1)/2). */
export function makeInts(n: number, device?: string): TensorLike {
  return onDevice(new core.Tensor(Int32Array.from({ length: n }, (_, i) => i), [n]), device);
}

/** Tensors nested in objects, arrays and a Map, beside CPU data. */
export function makeNested(rs: readonly TensorRecipe[]): unknown {
  const [a, b, c, d] = rs.map(makeTensor);
  return {
    step: 7,
    name: 'nested',
    weights: { a, more: [b, { deep: c }] },
    list: [1, 'two', d, null],
    table: new Map<string, unknown>([['k', 'v']]),
  };
}

/** Strings, numbers, Buffers, typed arrays, bigint, booleans and tensors side by side. */
export function makeMixed(rs: readonly TensorRecipe[]): unknown {
  const [a, b] = rs.map(makeTensor);
  return {
    text: 'hello, tensorwire',
    unicode: 'größe ✓',
    n: 42,
    pi: 3.25,
    neg: -1,
    big: 12345678901234567890n,
    yes: true,
    nothing: null,
    buf: Buffer.from('buffer bytes'),
    floats: new Float64Array([1.5, -2.25]),
    tensors: [a, b],
    inner: { again: 'x', buf2: Buffer.alloc(3, 9), t: a },
  };
}

function hash(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}

/** A plain, comparable description of a value (tensors hashed). */
export function fingerprint(v: unknown, seen = new Set<unknown>()): unknown {
  if (v === undefined) return { $undefined: true };
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return { $bigint: v.toString() };
  if (typeof v !== 'object') return { $other: typeof v };
  if (core.Tensor.isTensor(v)) {
    const t = v;
    const bytes = t.device === 'cpu' ? t.bytes() : t.cpu().bytes(); // device tensors: through a host copy
    return { $tensor: { dtype: t.dtype, shape: [...t.shape], device: t.device, nbytes: t.nbytes, sha1: hash(bytes) } };
  }
  if (Buffer.isBuffer(v)) return { $buffer: v.toString('hex') };
  if (ArrayBuffer.isView(v)) {
    return { $typed: v.constructor.name, hex: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') };
  }
  if (seen.has(v)) return { $cycle: true };
  seen.add(v);
  try {
    if (Array.isArray(v)) return v.map((x) => fingerprint(x, seen));
    if (v instanceof Map) return { $map: [...v.entries()].map(([k, x]) => [fingerprint(k, seen), fingerprint(x, seen)]) };
    if (v instanceof Set) return { $set: [...v].map((x) => fingerprint(x, seen)) };
    const out: Record<string, unknown> = {};
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) out.$class = proto?.constructor?.name;
    for (const k of Object.keys(v)) out[k] = fingerprint((v as Record<string, unknown>)[k], seen);
    return out;
  } finally {
    seen.delete(v);
  }
}

/**
 * A fingerprint without the tensors' devices: what `get` gives may be a CPU copy (through the
 * object store) of a GPU object's device tensors, or a device tensor (over a one-sided transport).
 */
export function withoutDevices(fp: unknown): unknown {
  if (Array.isArray(fp)) return fp.map(withoutDevices);
  if (fp === null || typeof fp !== 'object') return fp;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fp)) {
    if (k === '$tensor') {
      const { device: _device, ...rest } = v as Record<string, unknown>;
      out[k] = rest;
    } else out[k] = withoutDevices(v);
  }
  return out;
}
