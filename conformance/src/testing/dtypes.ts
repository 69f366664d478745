/**
 * Typed arrays by dtype name, for collective operations whose result depends on the element
 * type (allreduce). Values cross IPC as numbers, or as decimal strings for 64-bit integers.
 */

/** Typed array constructors by the dtype names transports use. */
export const TEST_DTYPES = {
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  float16: Uint16Array, // bytes only: tests need no float16 arithmetic in JavaScript
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
  int64: BigInt64Array,
} as const;

export type TestDtype = keyof typeof TEST_DTYPES;

/** A plain value of a typed array element as it travels (bigint as a decimal string). */
export type DtypeValue = number | string;

export function isTestDtype(dtype: string): dtype is TestDtype {
  return Object.prototype.hasOwnProperty.call(TEST_DTYPES, dtype);
}

/** A typed array of `dtype` holding `values`. */
export function typedArrayOf(dtype: TestDtype, values: readonly DtypeValue[]): ArrayBufferView {
  const view = new TEST_DTYPES[dtype](values.length) as unknown as { [i: number]: number | bigint };
  values.forEach((v, i) => (view[i] = dtype === 'int64' ? BigInt(v) : Number(v)));
  return view as unknown as ArrayBufferView;
}

/** The elements of a typed array as they travel (bigint as a decimal string). */
export function valuesOf(view: ArrayBufferView): DtypeValue[] {
  const list = view as unknown as ArrayLike<number | bigint>;
  return Array.from({ length: list.length }, (_, i) => (typeof list[i] === 'bigint' ? String(list[i]) : (list[i] as number)));
}
