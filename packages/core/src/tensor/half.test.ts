import test from 'ava';
import { bfloat16BitsToNumber, float16BitsToNumber, numberToBfloat16Bits, numberToFloat16Bits } from './half';

const f16: Array<[number, number]> = [
  [0, 0x0000],
  [-0, 0x8000],
  [1, 0x3c00],
  [-2, 0xc000],
  [0.5, 0x3800],
  [65504, 0x7bff], // largest finite
  [Infinity, 0x7c00],
  [-Infinity, 0xfc00],
  [2 ** -14, 0x0400], // smallest normal
  [2 ** -24, 0x0001], // smallest subnormal
  [2 ** -24 * 1023, 0x03ff], // largest subnormal
  [0.333251953125, 0x3555],
];

test('float16: known values encode and decode exactly', (t) => {
  for (const [x, bits] of f16) {
    t.is(numberToFloat16Bits(x), bits, `encode ${x}`);
    t.true(Object.is(float16BitsToNumber(bits), x), `decode 0x${bits.toString(16)}`);
  }
});

test('float16: rounding is to nearest, ties to even; overflow and underflow', (t) => {
  t.is(numberToFloat16Bits(1 + 2 ** -11), 0x3c00); // halfway between 1 and next: tie to even (1)
  t.is(numberToFloat16Bits(1 + 3 * 2 ** -11), 0x3c02); // halfway between 0x3c01 and 0x3c02: to even
  t.is(numberToFloat16Bits(1 + 2 ** -11 + 2 ** -20), 0x3c01); // just above the tie
  t.is(numberToFloat16Bits(65520), 0x7c00); // rounds past the max to Inf
  t.is(numberToFloat16Bits(65519), 0x7bff);
  t.is(numberToFloat16Bits(2 ** -25), 0x0000); // tie between 0 and min subnormal: even (0)
  t.is(numberToFloat16Bits(2 ** -25 + 2 ** -40), 0x0001);
  t.is(numberToFloat16Bits(-(2 ** -26)), 0x8000); // -0
  t.is(numberToFloat16Bits(2 ** -14 - 2 ** -25), 0x0400); // largest subnormal rounds up to min normal
  t.is(numberToFloat16Bits(0.1), 0x2e66);
});

test('float16: NaN', (t) => {
  t.is(numberToFloat16Bits(NaN), 0x7e00);
  t.true(Number.isNaN(float16BitsToNumber(0x7e00)));
  t.true(Number.isNaN(float16BitsToNumber(0xfc01)));
});

test('float16: every bit pattern round-trips', (t) => {
  let bad = 0;
  for (let b = 0; b < 0x10000; b++) {
    const x = float16BitsToNumber(b);
    if (Number.isNaN(x)) continue;
    if (numberToFloat16Bits(x) !== b) bad++;
  }
  t.is(bad, 0);
});

test('bfloat16: known values, rounding, NaN, subnormals', (t) => {
  t.is(numberToBfloat16Bits(1), 0x3f80);
  t.is(numberToBfloat16Bits(-2), 0xc000);
  t.is(numberToBfloat16Bits(0), 0);
  t.is(numberToBfloat16Bits(-0), 0x8000);
  t.is(numberToBfloat16Bits(Infinity), 0x7f80);
  t.is(numberToBfloat16Bits(-Infinity), 0xff80);
  t.is(numberToBfloat16Bits(NaN), 0x7fc0);
  t.is(numberToBfloat16Bits(Math.PI), 0x4049); // 3.140625
  t.is(bfloat16BitsToNumber(0x4049), 3.140625);
  t.is(numberToBfloat16Bits(1 + 2 ** -8), 0x3f80); // tie -> even
  t.is(numberToBfloat16Bits(1 + 3 * 2 ** -8), 0x3f82); // tie -> even
  t.is(numberToBfloat16Bits(3.4e38), 0x7f80); // past max finite + half ulp: Inf
  t.is(bfloat16BitsToNumber(0x7f7f), 3.3895313892515355e38); // largest finite
  t.is(numberToBfloat16Bits(3.3895313892515355e38), 0x7f7f);
  t.is(numberToBfloat16Bits(2 ** -133), 0x0001); // smallest subnormal
  t.is(bfloat16BitsToNumber(0x0001), 2 ** -133);
  t.true(Number.isNaN(bfloat16BitsToNumber(0xffc1)));
});

test('bfloat16: matches float32 truncation semantics for float32-representable values', (t) => {
  // For values already exact in float32, bf16 = RNE of the upper 16 bits of the float32 pattern.
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  let bad = 0;
  for (let i = 0; i < 20000; i++) {
    u32[0] = (Math.random() * 0x7f800000) >>> 0; // finite positive patterns
    const bits = u32[0] as number;
    const lower = bits & 0xffff;
    let upper = bits >>> 16;
    if (lower > 0x8000 || (lower === 0x8000 && (upper & 1) === 1)) upper += 1;
    if (numberToBfloat16Bits(f32[0] as number) !== upper) bad++;
  }
  t.is(bad, 0);
});
