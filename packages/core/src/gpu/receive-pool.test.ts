import test from 'ava';
import { POOL_MIN_BYTES, ReceivePool, sizeClass } from './receive-pool';

test('size classes round up by at most 1/8 of the power of two, small sizes stay exact', (t) => {
  t.is(sizeClass(1000), 1000);
  t.is(sizeClass(2 ** 20), 2 ** 20);
  t.is(sizeClass(2 ** 20 + 1), 2 ** 20 + 2 ** 17);
  t.is(sizeClass(100e6), 100663296);
  t.true(sizeClass(100e6) - 100e6 <= 100e6 / 8);
});

test('memory given back is lent again for the next take of its class, views of the requested length', (t) => {
  const pool = new ReceivePool(2 ** 30);
  const a = pool.take(1_000_000);
  t.is(a.byteLength, 1_000_000);
  t.true(pool.owns(a));
  a[0] = 7;
  t.true(pool.giveBack(a));
  t.false(pool.owns(a));
  const b = pool.take(1_040_000); // same class (1 MiB .. 1.125 MiB)
  t.is(b.buffer, a.buffer);
  t.is(b.byteLength, 1_040_000);
  t.deepEqual(pool.stats(), { cachedBytes: 0, hits: 1, misses: 1 });
  t.false(pool.giveBack(new Uint8Array(1 << 20)), 'memory it did not lend is not taken');
});

test('small takes are not pooled, and the byte bound leaves extra buffers to the GC', (t) => {
  const pool = new ReceivePool(3 * 2 ** 20);
  const small = pool.take(POOL_MIN_BYTES - 1);
  t.false(pool.giveBack(small));
  const xs = [pool.take(2 ** 20), pool.take(2 ** 20), pool.take(2 ** 20), pool.take(2 ** 20)];
  for (const x of xs) pool.giveBack(x);
  t.is(pool.stats().cachedBytes, 3 * 2 ** 20);
});

test('a source with its own allocator (a transport\'s registered pool) is kept apart from the heap', (t) => {
  let made = 0;
  const source = { allocate: (n: number) => (made++, new Uint8Array(n)) };
  const pool = new ReceivePool(2 ** 30);
  const x = pool.take(2 ** 20, source);
  pool.giveBack(x);
  const heap = pool.take(2 ** 20);
  t.not(heap.buffer, x.buffer);
  t.is(pool.take(2 ** 20, source).buffer, x.buffer);
  t.is(made, 1);
});
