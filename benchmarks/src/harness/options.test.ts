import test from 'ava';
import { runOptions } from './options';

test('defaults, flags and environment', (t) => {
  const d = runOptions([], {}, '/default');
  t.deepEqual(d.sizes, [1 << 10, 1 << 20, 64 << 20, 256 << 20]);
  t.is(d.rdtSizes, undefined);
  t.false(d.withTorch);
  t.is(d.outDir, '/default');
  const o = runOptions(['--with-torch', '--out', '/tmp/x'], { BENCH_SIZES: '1024,4096', BENCH_RDT_SIZES: '4', BENCH_SKIP: 'ray,multihost' }, '/default');
  t.deepEqual([o.sizes, o.rdtSizes, o.withTorch, o.outDir, [...o.skip]], [[1024, 4096], [4], true, '/tmp/x', ['ray', 'multihost']]);
});

test('a wrong flag, section or size fails naming it', (t) => {
  t.throws(() => runOptions(['--torch'], {}, '/d'), { message: /unknown argument '--torch'; usage: npm run bench/ });
  t.throws(() => runOptions([], { BENCH_SKIP: 'gloo,rtd' }, '/d'), { message: /BENCH_SKIP: unknown section\(s\) rtd; known: .*rdt/ });
  t.throws(() => runOptions([], { BENCH_SIZES: '1k' }, '/d'), { message: /BENCH_SIZES must be comma-separated positive byte counts, got '1k'/ });
  t.throws(() => runOptions([], { BENCH_RDT_SIZES: '0' }, '/d'), { message: /BENCH_RDT_SIZES/ });
});
