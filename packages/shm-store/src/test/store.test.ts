import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { actorStats, free, get, init, kill, objectStoreStats, shutdown, spawn, Tensor } from '@tensorwire/core';
import { shmStore, storeDir } from '../index';
import { checksum, Consumer, Producer } from './fixtures/actors';

const MiB = 2 ** 20;
const N = 4 * MiB;

function expected(n: number, seed = 0): number {
  const d = new Uint8Array(n);
  for (let i = 0; i < n; i++) d[i] = (i + seed) % 251;
  return checksum(d);
}
const SUM0 = expected(N);

/** Arena files of this driver (all runtimes). */
const ourFiles = (): string[] => fs.readdirSync(storeDir()).filter((n) => n.startsWith(`tensorwire-store-${process.pid}-`));

test.before(async () => {
  await init({ objectStore: 'shared-memory' });
});
test.after.always(async () => {
  await shutdown();
});

test.serial('actor to actor: a large result is read by the consumer from shared memory; freeing it recycles its block', async (t) => {
  const p = await spawn(Producer);
  const c = await spawn(Consumer);
  const ref = p.make.remote(N);
  t.is(await get(c.sum.remote(ref)), SUM0);
  t.is(shmStore().heldBy(p.actorId), 1, 'the driver holds a descriptor, not the bytes');
  t.true(objectStoreStats().bytes >= N);
  const s1 = (await get(p.arena.remote())) as { chunks: number; blocksHeld: number; cut: number };
  t.like(s1, { chunks: 1, blocksHeld: 1, cut: 1 });
  t.true(ourFiles().length >= 1);
  await free(ref);
  t.is(shmStore().heldBy(p.actorId), 0);
  t.like(await get(p.arena.remote()), { blocksHeld: 0, blocksFree: 1 });
  // The next value of that size reuses the block: no new chunk, no new block.
  const ref2 = p.make.remote(N, 1);
  t.is(await get(c.sum.remote(ref2)), expected(N, 1));
  t.like(await get(p.arena.remote()), { chunks: 1, blocksHeld: 1, cut: 1, reused: 1 });
  await free(ref2);
  await Promise.all([kill(p), kill(c)]);
});

test.serial('get in the driver reads a copy of its own; a value mixing a tensor, a Buffer and data comes back whole', async (t) => {
  const p = await spawn(Producer);
  const ref = p.make.remote(N);
  const a = (await get(ref)) as Tensor;
  t.is(checksum(a.data as Uint8Array), SUM0);
  (a.data as Uint8Array).fill(0);
  t.is(checksum(((await get(ref)) as Tensor).data as Uint8Array), SUM0, 'the stored bytes are not the caller\'s');
  const m = (await get(p.mixed.remote(N))) as { t: Tensor; b: Buffer; label: string };
  t.is(checksum(m.t.data as Uint8Array), expected(N, 7));
  t.true(Buffer.isBuffer(m.b));
  t.is(m.b.length, N);
  t.is(m.label, 'mixed');
  const c = await spawn(Consumer);
  t.deepEqual(await get(c.sumMixed.remote(p.mixed.remote(N))), [expected(N, 7), checksum(Buffer.alloc(N, 3)), 'mixed']);
  await free(ref);
  await Promise.all([kill(p), kill(c)]);
});

test.serial('received values are lent to the call like GPU-object arguments: pool memory, given back unless kept', async (t) => {
  const p = await spawn(Producer);
  const c = await spawn(Consumer);
  const ref = p.make.remote(N);
  t.is(await get(c.store.remote(ref)), N);
  t.regex((await get(c.useStored.remote())) as string, /^RuntimeStateError: .*keep\(tensor\)/);
  t.is(await get(c.storeKept.remote(ref)), N);
  t.is(await get(c.useStored.remote()), SUM0, 'kept: still readable after the call');
  for (let i = 0; i < 3; i++) t.is(await get(c.sum.remote(ref)), SUM0);
  const pool = (await actorStats(c)).receivePool!;
  t.true(pool.hits >= 2, `later calls reuse the pool's memory (${JSON.stringify(pool)})`);
  await free(ref);
  await Promise.all([kill(p), kill(c)]);
});

test.serial('an actor\'s put goes to shared memory too, and another actor gets it', async (t) => {
  const p = await spawn(Producer);
  const c = await spawn(Consumer);
  const refs = p.putBig.remote(N);
  t.is(await get(c.getAndSum.remote(refs)), expected(N, 5));
  await free(refs);
  await Promise.all([kill(p), kill(c)]);
});

test.serial('objects outlive their producer: read after it was killed; its files go when the last is freed', async (t) => {
  const p = await spawn(Producer);
  const c = await spawn(Consumer);
  const ref = p.make.remote(N);
  await get(p.arena.remote()); // the result is in
  const prefix = `tensorwire-store-${process.pid}-`;
  const mine = (): string[] => ourFiles().filter((f) => f.startsWith(prefix) && f.includes(`-${p.actorId.split('@')[0]}-`));
  t.is(mine().length, 1);
  await kill(p);
  t.is(await get(c.sum.remote(ref)), SUM0);
  t.is(checksum(((await get(ref)) as Tensor).data as Uint8Array), SUM0);
  t.is(mine().length, 1, 'kept while an object lives');
  await free(ref);
  t.deepEqual(mine(), [], 'removed with the last object of a dead producer');
  await kill(c);
});

test.serial('a consumer that cannot reach the shared memory (another /dev/shm: another host) gets the value inline', async (t) => {
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-other-shm-'));
  try {
    const p = await spawn(Producer);
    const c = await spawn(Consumer, { env: { TENSORWIRE_SHM_STORE_DIR: elsewhere } });
    const ref = p.make.remote(N);
    t.is(await get(c.sum.remote(ref)), SUM0);
    t.is(shmStore().heldBy(p.actorId), 1);
    // ...and as a producer there it does not place (results go through the driver).
    const q = await spawn(Producer, { env: { TENSORWIRE_SHM_STORE_DIR: elsewhere } });
    const ref2 = q.make.remote(N);
    t.is(await get(c.sum.remote(ref2)), SUM0);
    t.is(shmStore().heldBy(q.actorId), 0);
    t.deepEqual(fs.readdirSync(elsewhere), []);
    await free([ref, ref2]);
    await Promise.all([kill(p), kill(c), kill(q)]);
  } finally {
    fs.rmSync(elsewhere, { recursive: true, force: true });
  }
});

test.serial('TENSORWIRE_OBJECT_STORE=memory in an actor\'s environment turns the store off for it alone', async (t) => {
  const off = { env: { TENSORWIRE_OBJECT_STORE: 'memory' } };
  const p = await spawn(Producer, off);
  const c = await spawn(Consumer, off);
  const on = await spawn(Producer);
  const ref = p.make.remote(N);
  const ref2 = on.make.remote(N);
  t.is(await get(c.sum.remote(ref)), SUM0);
  t.is(await get(c.sum.remote(ref2)), SUM0, 'a placed value reaches it inline');
  t.is(shmStore().heldBy(p.actorId), 0);
  t.is(shmStore().heldBy(on.actorId), 1);
  t.is(await get(p.arena.remote()), null);
  await free([ref, ref2]);
  await Promise.all([kill(p), kill(c), kill(on)]);
});

test.serial('a full store (small bound) falls back to the driver path with one warning; calls still succeed', async (t) => {
  const p = await spawn(Producer, { env: { TENSORWIRE_SHM_STORE_BYTES: String(8 * MiB) } });
  const c = await spawn(Consumer);
  const first = p.make.remote(N); // fits (one 8 MiB chunk)
  const second = p.make.remote(N); // no room: inline
  t.is(await get(c.sum.remote(first)), SUM0);
  t.is(await get(c.sum.remote(second)), SUM0);
  t.is(shmStore().heldBy(p.actorId), 1);
  const big = p.make.remote(16 * MiB); // larger than the bound: inline
  t.is(checksum(((await get(big)) as Tensor).data as Uint8Array), expected(16 * MiB));
  await free([first, second, big]);
  await Promise.all([kill(p), kill(c)]);
});

test.serial('shutdown leaves no arena file behind; a later runtime works again', async (t) => {
  const p = await spawn(Producer);
  const ref = p.make.remote(N);
  await get(ref);
  t.true(ourFiles().length > 0);
  await shutdown();
  t.deepEqual(ourFiles(), []);
  await init({ objectStore: 'shared-memory' });
  const q = await spawn(Producer);
  t.is(checksum(((await get(q.make.remote(N))) as Tensor).data as Uint8Array), SUM0);
});

test.serial("objectStore: 'memory' places nothing", async (t) => {
  await shutdown();
  await init({ objectStore: 'memory' });
  const p = await spawn(Producer);
  const c = await spawn(Consumer);
  t.is(await get(c.sum.remote(p.make.remote(N))), SUM0);
  t.is(await get(p.arena.remote()), null);
  t.deepEqual(ourFiles(), []);
});
