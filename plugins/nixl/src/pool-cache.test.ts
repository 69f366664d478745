import test from 'ava';
import { cpuTensor, fillPattern, findPatternMismatch } from '@tensorwire/conformance/testing';
import { nixlPlugin, NixlEndpoint } from './index';
import { poolCacheBytesFrom } from './options';

const MiB = 2 ** 20;
const gc = (globalThis as { gc?: () => void }).gc;

async function endpoint(name: string, poolCacheBytes?: number): Promise<NixlEndpoint> {
  const options = poolCacheBytes === undefined ? {} : { poolCacheBytes };
  return (await nixlPlugin.createEndpoint({ processName: name, options, log: () => undefined })) as NixlEndpoint;
}

/** Collect garbage until `done()` (finalizers of external ArrayBuffers may run a tick later). */
/** Collect garbage until `done()` (finalizers run on later turns), for up to 10 s on a loaded machine. */
async function collectUntil(done: () => boolean): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  for (let i = 0; !done() && Date.now() < deadline; i++) {
    gc!();
    await new Promise((r) => (i < 50 ? setImmediate(r) : setTimeout(r, 10)));
  }
  return done();
}

/** Allocate, register, release and drop one pool buffer; returns the address it had. */
async function allocateAndDrop(ep: NixlEndpoint, nbytes: number, seed?: number): Promise<string> {
  const bytes = ep.allocate(nbytes);
  if (seed !== undefined) fillPattern(bytes, seed);
  const d = await ep.register([cpuTensor(bytes)]);
  await ep.release(d);
  return d.regions[0].addr;
}

test.before((t) => {
  t.truthy(gc, 'these tests need node --expose-gc (package.json ava.nodeArguments)');
});

test('a collected pool buffer comes back: same chunk, same address, no new mapping', async (t) => {
  const ep = await endpoint('pool-reuse');
  try {
    const first = await allocateAndDrop(ep, 3 * MiB + 5);
    t.like(ep.stats().pool, { misses: 1, hits: 0 });
    t.true(await collectUntil(() => ep.stats().pool.returned === 1), 'the chunk returned to the cache');
    t.like(ep.stats().pool, { cachedChunks: 1, cachedBytes: 4 * MiB });
    const again = ep.allocate(3 * MiB + 100); // same size class (4 MiB)
    t.is(again.byteLength, 3 * MiB + 100, 'a view of exactly the requested size');
    const d = await ep.register([cpuTensor(again)]);
    t.is(d.regions[0].addr, first, 'the cached chunk is reused');
    t.true(d.regions[0].pool, 'and registered through its existing mapping');
    t.like(ep.stats().pool, { hits: 1, misses: 1, cachedChunks: 0, cachedBytes: 0 });
    t.is(ep.stats().poolChunks, 1);
    await ep.release(d);
  } finally {
    await ep.close();
  }
});

test('small buffers share slabs; slots and empty slabs are reused', async (t) => {
  const ep = await endpoint('pool-slabs');
  try {
    const a = ep.allocate(1000);
    const b = ep.allocate(1024);
    const [da, db] = [await ep.register([cpuTensor(a)]), await ep.register([cpuTensor(b)])];
    t.is(BigInt(db.regions[0].addr) - BigInt(da.regions[0].addr), 1024n, 'neighbouring 1 KiB slots of one slab');
    t.like(ep.stats().pool, { slabs: 1, misses: 1, hits: 1 });
    await ep.release(da);
    await ep.release(db);
    const fillSlabs = () => {
      const held = Array.from({ length: 2 * 2048 + 1 }, () => ep.allocate(1024)); // 2 MiB slabs of 1 KiB slots
      return held.length;
    };
    t.is(fillSlabs(), 4097);
    t.like(ep.stats().pool, { slabs: 3, misses: 3 });
    t.true(await collectUntil(() => ep.stats().pool.slabs === 1 && ep.stats().pool.cachedChunks === 2), JSON.stringify(ep.stats().pool));
    t.is(a.byteLength + b.byteLength, 2024); // a and b stay alive until here
    fillSlabs();
    t.like(ep.stats().pool, { slabs: 3, misses: 3, cachedChunks: 0 }, 'empty slabs came back from the chunk cache');
  } finally {
    await ep.close();
  }
});

test('a stale descriptor of the previous object in a recycled chunk fails cleanly', async (t) => {
  const producer = await endpoint('stale-producer');
  const consumer = await endpoint('stale-consumer');
  try {
    const size = 4 * MiB;
    // The endpoint holds the only reference to the buffer until the release.
    const registerFilled = (seed: number) => {
      const bytes = producer.allocate(size);
      fillPattern(bytes, seed);
      return producer.register([cpuTensor(bytes)]);
    };
    const old = await registerFilled(1);
    const into = new Uint8Array(size);
    await consumer.read(old, [cpuTensor(into)], 10_000);
    t.is(findPatternMismatch(into, 1), -1);
    await producer.release(old);
    t.true(await collectUntil(() => producer.stats().pool.returned === 1), 'the chunk returned to the cache');
    const fresh = await registerFilled(2);
    t.is(fresh.regions[0].addr, old.regions[0].addr, 'the new object lives in the recycled chunk');
    t.is(fresh.regions[0].rkey, old.regions[0].rkey, 'with the same registration (packed rkey)');
    t.not(fresh.regions[0].token, old.regions[0].token);

    const stale = new Uint8Array(size);
    const err = await t.throwsAsync(consumer.read(old, [cpuTensor(stale)], 10_000));
    t.is((err as { code?: string }).code, 'NIXL_REGISTRATION_RELEASED', err?.message);
    t.true(stale.every((b) => b === 0), "the new object's bytes were not read");

    await consumer.read(fresh, [cpuTensor(into)], 10_000);
    t.is(findPatternMismatch(into, 2), -1, 'the new descriptor reads the new object');
    await producer.release(fresh);
  } finally {
    await consumer.close();
    await producer.close();
  }
});

test('the cache stays under its bound; larger chunks are unmapped', async (t) => {
  const ep = await endpoint('pool-bound', 5 * MiB);
  try {
    t.is(ep.stats().pool.limitBytes, 5 * MiB);
    for (let i = 0; i < 3; i++) await allocateAndDrop(ep, 2 * MiB);
    await allocateAndDrop(ep, 8 * MiB); // larger than the bound: never cached
    const held = [ep.allocate(2 * MiB), ep.allocate(2 * MiB), ep.allocate(2 * MiB)];
    t.is(held.length, 3);
    held.length = 0;
    t.true(await collectUntil(() => ep.stats().poolChunks === 0), 'every buffer was collected');
    const s = ep.stats().pool;
    t.true(s.cachedBytes <= 5 * MiB, `cached ${s.cachedBytes} bytes`);
    t.is(s.cachedChunks, 2, 'two 2 MiB chunks fit under 5 MiB');
    t.true(s.evicted >= 2, 'the 8 MiB chunk and the third 2 MiB chunk were unmapped');
  } finally {
    await ep.close();
  }
});

test('poolCacheBytes 0 caches nothing', async (t) => {
  const ep = await endpoint('pool-off', 0);
  try {
    await allocateAndDrop(ep, 3 * MiB);
    t.true(await collectUntil(() => ep.stats().poolChunks === 0));
    t.like(ep.stats().pool, { cachedChunks: 0, cachedBytes: 0, limitBytes: 0 });
  } finally {
    await ep.close();
  }
});

test('close() unmaps every cached chunk; buffers alive at close stay usable and are not cached', async (t) => {
  const ep = await endpoint('pool-close');
  await allocateAndDrop(ep, 3 * MiB);
  await allocateAndDrop(ep, 6 * MiB);
  let alive: Uint8Array | undefined = ep.allocate(3 * MiB);
  t.true(await collectUntil(() => ep.stats().pool.cachedChunks === 2));
  await ep.close();
  t.like(ep.stats().pool, { cachedChunks: 0, cachedBytes: 0 });
  alive.fill(7); // still mapped: its ArrayBuffer owns the mapping
  t.is(alive[3 * MiB - 1], 7);
  alive = undefined;
  t.true(await collectUntil(() => ep.stats().poolChunks === 0));
  t.is(ep.stats().pool.cachedChunks, 0, 'returned after close: unmapped, not cached');
  t.throws(() => ep.allocate(16), { code: 'NIXL_CLOSED' } as never);
});

// Serial (ava runs serial tests before the concurrent ones): process.memoryUsage().external is
// process-wide, and the other tests of this file allocate and drop pool memory concurrently.
test.serial('V8 is told about pool memory (external memory up on allocate, down when collected)', async (t) => {
  const ep = await endpoint('pool-external');
  try {
    const before = process.memoryUsage().external;
    let big: Uint8Array | undefined = ep.allocate(32 * MiB);
    t.true(process.memoryUsage().external - before >= 32 * MiB);
    t.is(big.byteLength, 32 * MiB);
    big = undefined;
    t.true(await collectUntil(() => ep.stats().pool.returned === 1));
    t.true(process.memoryUsage().external - before < 16 * MiB);
  } finally {
    await ep.close();
  }
});

test('the cache bound comes from the options, else TENSORWIRE_NIXL_POOL_CACHE_BYTES, else 1 GiB', (t) => {
  t.is(poolCacheBytesFrom({}, {}), 2 ** 30);
  t.is(poolCacheBytesFrom({}, { TENSORWIRE_NIXL_POOL_CACHE_BYTES: '1048576' }), MiB);
  t.is(poolCacheBytesFrom({ poolCacheBytes: 5 }, { TENSORWIRE_NIXL_POOL_CACHE_BYTES: '1048576' }), 5);
  t.throws(() => poolCacheBytesFrom({}, { TENSORWIRE_NIXL_POOL_CACHE_BYTES: 'lots' }), { code: 'ERR_OUT_OF_RANGE' } as never);
  t.throws(() => poolCacheBytesFrom({ poolCacheBytes: -1 }), { code: 'ERR_OUT_OF_RANGE' } as never);
});
