/**
 * Conversions between JavaScript numbers and the 16-bit float formats (IEEE float16 and
 * bfloat16). Tensors of these dtypes store bit patterns in a Uint16Array; these functions are
 * the only place that knows the encodings.
 *
 * Encoding rounds the exact double value directly to the target format (round half to even),
 * so there is no double-rounding through float32. NaN keeps its sign and becomes a quiet NaN;
 * values beyond the largest finite value round to ±Infinity; tiny values become subnormals or ±0.
 */

/** A 16-bit float layout: exponent and mantissa widths (sign is always 1 bit). */
interface HalfFormat {
  readonly expBits: number;
  readonly mantBits: number;
  readonly bias: number;
  readonly expMax: number; // all-ones exponent field (Inf/NaN)
  readonly quietNaN: number; // positive quiet NaN bit pattern
  readonly minNormal: number; // 2^(1-bias)
  readonly subnormalUnit: number; // 2^(1-bias-mantBits)
}

function format(expBits: number, mantBits: number): HalfFormat {
  const bias = 2 ** (expBits - 1) - 1;
  return {
    expBits,
    mantBits,
    bias,
    expMax: 2 ** expBits - 1,
    quietNaN: ((2 ** expBits - 1) << mantBits) | (1 << (mantBits - 1)),
    minNormal: 2 ** (1 - bias),
    subnormalUnit: 2 ** (1 - bias - mantBits),
  };
}

const FLOAT16 = format(5, 10);
const BFLOAT16 = format(8, 7);

/** Round a non-negative double to the nearest integer, ties to even. */
function roundHalfEven(q: number): number {
  const f = Math.floor(q);
  const d = q - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** floor(log2(a)) for a finite a > 0, exact (Math.log2 alone can be off by one near powers of 2). */
function exponentOf(a: number): number {
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1;
  else if (2 ** (e + 1) <= a) e += 1;
  return e;
}

function encode(x: number, f: HalfFormat): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  if (Number.isNaN(x)) return sign | f.quietNaN;
  const a = Math.abs(x);
  const inf = sign | (f.expMax << f.mantBits);
  if (a === Infinity) return inf;
  if (a < f.minNormal) {
    // Subnormal (or zero): the value is m * subnormalUnit with m < 2^mantBits. m may round up to
    // 2^mantBits, which is exactly the bit pattern of the smallest normal: no special case.
    return sign | roundHalfEven(a / f.subnormalUnit);
  }
  let e = exponentOf(a);
  let m = roundHalfEven((a / 2 ** e - 1) * 2 ** f.mantBits);
  if (m === 2 ** f.mantBits) {
    m = 0;
    e += 1;
  }
  const biased = e + f.bias;
  if (biased >= f.expMax) return inf;
  return sign | (biased << f.mantBits) | m;
}

function decode(bits: number, f: HalfFormat): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> f.mantBits) & f.expMax;
  const mant = bits & ((1 << f.mantBits) - 1);
  if (exp === f.expMax) return mant ? NaN : sign * Infinity;
  if (exp === 0) return sign * mant * f.subnormalUnit;
  return sign * (1 + mant / 2 ** f.mantBits) * 2 ** (exp - f.bias);
}

/** The float16 bit pattern nearest to `x` (round half to even). */
export function numberToFloat16Bits(x: number): number {
  return encode(x, FLOAT16);
}

/** The value of a float16 bit pattern. */
export function float16BitsToNumber(bits: number): number {
  return decode(bits, FLOAT16);
}

/** The bfloat16 bit pattern nearest to `x` (round half to even). */
export function numberToBfloat16Bits(x: number): number {
  return encode(x, BFLOAT16);
}

/** The value of a bfloat16 bit pattern. */
export function bfloat16BitsToNumber(bits: number): number {
  return decode(bits, BFLOAT16);
}
