/**
 * Tensor element types: names, sizes, the TypedArray that stores each, and element access
 * as JavaScript numbers. float16 and bfloat16 are stored as Uint16Array bit patterns, int64 as
 * BigInt64Array, bool as Uint8Array holding 0 or 1.
 */
import { InvalidArgumentError } from '../errors/errors';
import {
  bfloat16BitsToNumber,
  float16BitsToNumber,
  numberToBfloat16Bits,
  numberToFloat16Bits,
} from './half';

/** Element type of a tensor. */
export type DType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'bool';

/** The TypedArrays a tensor can wrap. */
export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array;

/** A constructor of one of the {@link TypedArray} classes. */
export interface TypedArrayConstructor<T extends TypedArray = TypedArray> {
  new (length: number): T;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
}

interface DTypeInfo {
  readonly size: number;
  readonly ctor: TypedArrayConstructor;
}

const INFO: Readonly<Record<DType, DTypeInfo>> = {
  float32: { size: 4, ctor: Float32Array },
  float64: { size: 8, ctor: Float64Array },
  float16: { size: 2, ctor: Uint16Array },
  bfloat16: { size: 2, ctor: Uint16Array },
  int8: { size: 1, ctor: Int8Array },
  int16: { size: 2, ctor: Int16Array },
  int32: { size: 4, ctor: Int32Array },
  int64: { size: 8, ctor: BigInt64Array as unknown as TypedArrayConstructor },
  uint8: { size: 1, ctor: Uint8Array },
  bool: { size: 1, ctor: Uint8Array },
};

/** Every dtype, in a stable order. */
export const DTYPES: readonly DType[] = Object.freeze(Object.keys(INFO) as DType[]);

/** True when `x` names a dtype. */
export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(INFO, x);
}

/** Throws a TypeError naming the valid dtypes unless `x` is one. */
export function assertDType(x: unknown): asserts x is DType {
  if (!isDType(x)) throw new InvalidArgumentError(`unknown dtype ${JSON.stringify(x)}; expected one of ${DTYPES.join(', ')}`);
}

/** Bytes per element of `dtype`. */
export function dtypeSize(dtype: DType): number {
  return INFO[dtype].size;
}

/** The TypedArray class that stores elements of `dtype`. */
export function dtypeArrayConstructor(dtype: DType): TypedArrayConstructor {
  return INFO[dtype].ctor;
}

/** true for float32/float64/float16/bfloat16. */
export function isFloatDType(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}

/**
 * The dtype that a TypedArray stores, or undefined for arrays tensors cannot wrap. Uint16Array
 * is ambiguous (float16 or bfloat16 bits) and yields undefined: the caller must name the dtype.
 */
export function dtypeOfArray(data: unknown): DType | undefined {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint8Array) return 'uint8';
  return undefined;
}

/** True when `data` is an instance of the array class that stores `dtype`. */
export function arrayFitsDType(data: unknown, dtype: DType): data is TypedArray {
  const ctor = INFO[dtype].ctor;
  // Buffer is a Uint8Array subclass and is accepted for uint8/bool.
  return data instanceof ctor;
}

/** Allocate a zero-filled array for `n` elements of `dtype`. */
export function allocateArray(dtype: DType, n: number): TypedArray {
  return new INFO[dtype].ctor(n);
}

/** Encode a JavaScript number as stored in an array of `dtype` (bit pattern for 16-bit floats). */
export function numberToStored(dtype: DType, x: number): number | bigint {
  switch (dtype) {
    case 'float16':
      return numberToFloat16Bits(x);
    case 'bfloat16':
      return numberToBfloat16Bits(x);
    case 'int64':
      return numberToBigInt(x);
    case 'bool':
      return x !== 0 && !Number.isNaN(x) ? 1 : 0;
    default:
      return x;
  }
}

/** Truncate a finite number to a bigint; NaN and ±Infinity have no int64 value. */
export function numberToBigInt(x: number): bigint {
  if (!Number.isFinite(x)) throw new InvalidArgumentError(`cannot store ${x} in an int64 tensor`);
  return BigInt(Math.trunc(x));
}

/** Read element `i` of `data` (of `dtype`) as a JavaScript number. */
export function readNumber(dtype: DType, data: TypedArray, i: number): number {
  switch (dtype) {
    case 'float16':
      return float16BitsToNumber(data[i] as number);
    case 'bfloat16':
      return bfloat16BitsToNumber(data[i] as number);
    case 'int64':
      return Number(data[i] as bigint);
    default:
      return data[i] as number;
  }
}

/** All elements of `data` as numbers: the array itself when it already holds plain numbers. */
export function asNumbers(dtype: DType, data: TypedArray): ArrayLike<number> {
  if (dtype === 'float16' || dtype === 'bfloat16' || dtype === 'int64') {
    const out = new Float64Array(data.length);
    for (let i = 0; i < out.length; i++) out[i] = readNumber(dtype, data, i);
    return out;
  }
  return data as ArrayLike<number>;
}

/** Build an array of `dtype` from numbers, converting each (rounding to 16-bit floats, etc.). */
export function arrayFromNumbers(dtype: DType, n: number, valueAt: (i: number) => number): TypedArray {
  const out = allocateArray(dtype, n);
  storeNumbers(dtype, out, n, valueAt);
  return out;
}

/** Write `n` numbers into `out` (an array of `dtype`), converting each. */
export function storeNumbers(dtype: DType, out: TypedArray, n: number, valueAt: (i: number) => number): void {
  switch (dtype) {
    case 'float16':
      for (let i = 0; i < n; i++) out[i] = numberToFloat16Bits(valueAt(i));
      return;
    case 'bfloat16':
      for (let i = 0; i < n; i++) out[i] = numberToBfloat16Bits(valueAt(i));
      return;
    case 'int64':
      for (let i = 0; i < n; i++) out[i] = numberToBigInt(valueAt(i));
      return;
    case 'bool':
      for (let i = 0; i < n; i++) {
        const v = valueAt(i);
        out[i] = v !== 0 && !Number.isNaN(v) ? 1 : 0;
      }
      return;
    default:
      // The TypedArray itself converts (rounds to float32, wraps integers).
      for (let i = 0; i < n; i++) out[i] = valueAt(i);
  }
}
