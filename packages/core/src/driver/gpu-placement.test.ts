import test from 'ava';
import { InvalidArgumentError, RuntimeStateError } from '../errors/errors';
import { GpuPlacement } from './gpu-placement';

const two = () => ({ count: 2 });

test('numGpus is a non-negative number, whole above 1', (t) => {
  for (const bad of [-1, NaN, Infinity, '1', 1.5, 0.00001]) {
    t.throws(() => GpuPlacement.check(bad, 'spawn(A)'), { instanceOf: InvalidArgumentError, message: /^spawn\(A\): numGpus/ });
  }
  t.is(GpuPlacement.check(0, 'x'), 0);
  t.is(GpuPlacement.check(0.25, 'x'), 0.25);
  t.is(GpuPlacement.check(2, 'x'), 2);
});

test('a machine without GPUs refuses with the reason and the fix', (t) => {
  const p = new GpuPlacement(() => ({ count: 0, reason: "no 'cuda' device backend is registered in this process" }), undefined);
  const err = t.throws(() => p.reserve('a1', 'a', 1, 'spawn(A)'), { instanceOf: InvalidArgumentError });
  t.regex(err!.message, /^spawn\(A\): numGpus: 1 needs a GPU, and this machine has none that tensorwire can use \(no 'cuda' device backend is registered/);
  t.regex(err!.message, /Fix: .*init\(\{ numGpus \}\)/);
});

test('more GPUs than the machine has is refused at once', (t) => {
  const p = new GpuPlacement(two, undefined);
  t.throws(() => p.reserve('a1', 'a', 3, 'spawn(A)'), { instanceOf: InvalidArgumentError, message: /asks for more GPUs than this machine has \(2\)/ });
});

test('whole GPUs, then fractions sharing one, then over-subscription names the holders', (t) => {
  const p = new GpuPlacement(two, undefined);
  t.deepEqual(p.reserve('a1', 'trainer', 1, 'spawn(T)'), { indices: [0], cudaVisibleDevices: '0' });
  t.deepEqual(p.reserve('a2', 's1', 0.5, 'spawn(S)'), { indices: [1], cudaVisibleDevices: '1' });
  t.deepEqual(p.reserve('a3', 's2', 0.5, 'spawn(S)'), { indices: [1], cudaVisibleDevices: '1' });
  const err = t.throws(() => p.reserve('a4', 's3', 0.1, 'spawn(S)'), { instanceOf: RuntimeStateError });
  t.regex(err!.message, /cannot be placed now: GPU 0: 0 free, held by trainer \(1\); GPU 1: 0 free, held by s1 \(0\.5\), s2 \(0\.5\)/);
  t.regex(err!.message, /Fix: kill\(\) an actor that holds GPUs, or ask for less/);
  p.release('a1');
  p.release('a1'); // twice is harmless
  t.deepEqual(p.reserve('a4', 's3', 0.1, 'spawn(S)').indices, [0]);
  t.throws(() => p.reserve('a5', 'big', 2, 'spawn(B)'), { instanceOf: RuntimeStateError });
});

test('fractions fill a GPU exactly and go to the fullest GPU that fits', (t) => {
  const p = new GpuPlacement(two, undefined);
  t.deepEqual(p.reserve('a', 'a', 0.3, 'x').indices, [0]);
  t.deepEqual(p.reserve('b', 'b', 0.1, 'x').indices, [0]);
  t.deepEqual(p.reserve('c', 'c', 0.6, 'x').indices, [0], '0.3 + 0.1 + 0.6 = 1 exactly');
  t.deepEqual(p.reserve('d', 'd', 1, 'x').indices, [1]);
});

test("indices map through the driver's own CUDA_VISIBLE_DEVICES", (t) => {
  const p = new GpuPlacement(two, '3, 5');
  t.is(p.reserve('a', 'a', 2, 'x').cudaVisibleDevices, '3,5');
});
