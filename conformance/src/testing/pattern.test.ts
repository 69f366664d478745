import test from 'ava';
import { countZeros, fillPattern, findPatternMismatch, patternByte } from './pattern';
import { allocateTensor, checkTensors, makeTensor } from './tensor-spec';

test('pattern bytes are never zero and depend on the seed', (t) => {
  const a = new Uint8Array(1 << 20);
  const b = new Uint8Array(1 << 20);
  fillPattern(a, 1);
  fillPattern(b, 2);
  t.is(countZeros(a), 0);
  t.false(Buffer.from(a).equals(Buffer.from(b)));
});

test('the pattern is the same at any alignment and chunking', (t) => {
  const whole = new Uint8Array(3 * (1 << 20) + 7);
  fillPattern(whole, 9);
  const backing = new Uint8Array(whole.length + 3);
  const unaligned = backing.subarray(3);
  fillPattern(unaligned, 9);
  t.true(Buffer.from(unaligned).equals(Buffer.from(whole)));
  t.is(findPatternMismatch(unaligned, 9), -1);
  t.is(patternByte(9, 12345), whole[12345]);
});

test('findPatternMismatch finds the first wrong byte, also past the first chunk', (t) => {
  const buf = new Uint8Array(2 * (1 << 20) + 5);
  fillPattern(buf, 3);
  buf[(1 << 20) + 17] ^= 0x10;
  t.is(findPatternMismatch(buf, 3), (1 << 20) + 17);
});

test('checkTensors reports untouched receive buffers, wrong seeds and writes past the end', (t) => {
  const spec = { numel: 10, elementSize: 4 as const, seed: 5, offsetElements: 2 };
  t.true(checkTensors([spec], [makeTensor(spec)]).ok);
  const untouched = checkTensors([spec], [allocateTensor(spec)]);
  t.false(untouched.ok);
  t.regex(untouched.problems[0], /never written/);
  t.false(checkTensors([spec], [makeTensor({ ...spec, seed: 6 })]).ok);
  const overrun = makeTensor(spec);
  new Uint8Array(overrun.bytes().buffer)[overrun.bytes().byteOffset + overrun.nbytes] = 1;
  t.regex(checkTensors([spec], [overrun]).problems.join(), /past its end/);
});
