/**
 * Bytes of small whole numbers in every NCCL element type, and back, for checking allreduce in
 * the test process (the values are chosen so that every result is exact in every type).
 */

/** IEEE-style encoding of a whole number `v` >= 0 with these exponent/mantissa widths. */
function encodeSmall(v: number, mantBits: number, bias: number): number {
  if (v === 0) return 0;
  const e = Math.floor(Math.log2(v));
  const mant = (v / 2 ** e - 1) * 2 ** mantBits;
  if (!Number.isInteger(mant)) throw new Error(`${v} is not exact with ${mantBits} mantissa bits`);
  return ((e + bias) << mantBits) | mant;
}

function decodeSmall(bits: number, mantBits: number, bias: number): number {
  if (bits === 0) return 0;
  const e = (bits >> mantBits) - bias;
  return (1 + (bits & ((1 << mantBits) - 1)) / 2 ** mantBits) * 2 ** e;
}

interface Codec {
  readonly size: number;
  write(view: DataView, at: number, v: number): void;
  read(view: DataView, at: number): number;
}

const CODECS: Readonly<Record<string, Codec>> = {
  int8: { size: 1, write: (d, i, v) => d.setInt8(i, v), read: (d, i) => d.getInt8(i) },
  uint8: { size: 1, write: (d, i, v) => d.setUint8(i, v), read: (d, i) => d.getUint8(i) },
  bool: { size: 1, write: (d, i, v) => d.setUint8(i, v), read: (d, i) => d.getUint8(i) },
  int32: { size: 4, write: (d, i, v) => d.setInt32(i, v, true), read: (d, i) => d.getInt32(i, true) },
  uint32: { size: 4, write: (d, i, v) => d.setUint32(i, v, true), read: (d, i) => d.getUint32(i, true) },
  int64: { size: 8, write: (d, i, v) => d.setBigInt64(i, BigInt(v), true), read: (d, i) => Number(d.getBigInt64(i, true)) },
  uint64: { size: 8, write: (d, i, v) => d.setBigUint64(i, BigInt(v), true), read: (d, i) => Number(d.getBigUint64(i, true)) },
  float32: { size: 4, write: (d, i, v) => d.setFloat32(i, v, true), read: (d, i) => d.getFloat32(i, true) },
  float64: { size: 8, write: (d, i, v) => d.setFloat64(i, v, true), read: (d, i) => d.getFloat64(i, true) },
  float16: { size: 2, write: (d, i, v) => d.setUint16(i, encodeSmall(v, 10, 15), true), read: (d, i) => decodeSmall(d.getUint16(i, true), 10, 15) },
  bfloat16: { size: 2, write: (d, i, v) => d.setUint16(i, encodeSmall(v, 7, 127), true), read: (d, i) => decodeSmall(d.getUint16(i, true), 7, 127) },
  float8_e4m3fn: { size: 1, write: (d, i, v) => d.setUint8(i, encodeSmall(v, 3, 7)), read: (d, i) => decodeSmall(d.getUint8(i), 3, 7) },
  float8_e5m2: { size: 1, write: (d, i, v) => d.setUint8(i, encodeSmall(v, 2, 15)), read: (d, i) => decodeSmall(d.getUint8(i), 2, 15) },
};

/** Every NCCL element type the tests reduce. */
export const REDUCE_DTYPES = Object.keys(CODECS);

export function encode(dtype: string, values: readonly number[]): number[] {
  const c = CODECS[dtype];
  const view = new DataView(new ArrayBuffer(values.length * c.size));
  values.forEach((v, i) => c.write(view, i * c.size, v));
  return Array.from(new Uint8Array(view.buffer));
}

export function decode(dtype: string, bytes: readonly number[]): number[] {
  const c = CODECS[dtype];
  const view = new DataView(Uint8Array.from(bytes).buffer);
  return Array.from({ length: bytes.length / c.size }, (_, i) => c.read(view, i * c.size));
}
