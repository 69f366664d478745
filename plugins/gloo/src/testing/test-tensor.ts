/** A minimal CPU (or fake device) TransportTensor over a typed array, for tests. */
import type { TransportTensor } from '@tensorwire/core';

export class TestTensor implements TransportTensor {
  constructor(
    private readonly view: ArrayBufferView,
    readonly device: string = 'cpu',
  ) {}

  get nbytes(): number {
    return this.view.byteLength;
  }

  bytes(): Uint8Array {
    if (this.device !== 'cpu') throw new Error('bytes() of a device tensor');
    return new Uint8Array(this.view.buffer, this.view.byteOffset, this.view.byteLength);
  }
}

/** Typed array constructors by dtype name. */
export const DTYPES = {
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  float16: Uint16Array, // bytes only: no JS float16 arithmetic needed in tests
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
  int64: BigInt64Array,
} as const;

export type TestDtype = keyof typeof DTYPES;

export function makeTyped(dtype: TestDtype, length: number): ArrayBufferView {
  return new DTYPES[dtype](length);
}
