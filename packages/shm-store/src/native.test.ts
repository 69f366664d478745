import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadNative } from './native';

// Large copies are striped over 3 threads in this file (read once, at the first large copy).
process.env.TENSORWIRE_SHM_COPY_THREADS = '3';
const native = loadNative();
const dir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'tw-shm-test-'));
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

const file = (name: string): string => path.join(dir, name);

test('a new file is reserved, mapped and sized; another mapping of it sees the same bytes', async (t) => {
  const f = file('a');
  const w = native.open(f, 1 << 20, true);
  t.is(native.size(w), 1 << 20);
  t.is(fs.statSync(f).size, 1 << 20);
  const src = new Uint8Array(300_000).map((_, i) => i % 251);
  await native.copyIn(w, [4096], [src]);
  const r = native.open(f, 0, false);
  t.is(native.size(r), 1 << 20);
  const out = new Uint8Array(300_000);
  await native.copyOut(r, [4096], [out]);
  t.deepEqual(out, src);
  const small = new Uint8Array(10);
  native.copyOutSync(r, [4096 + 5], [small]);
  t.deepEqual([...small], [...src.subarray(5, 15)]);
  native.close(w);
  native.close(r);
  t.true(native.unlink(f));
  t.false(native.unlink(f));
});

test('several pieces in one copy, both ways, sync and async', async (t) => {
  const h = native.open(file('b'), 65536, true);
  const a = Uint8Array.of(1, 2, 3);
  const b = Uint8Array.of(9, 8);
  native.copyInSync(h, [0, 100], [a, b]);
  const x = new Uint8Array(3);
  const y = new Uint8Array(2);
  await native.copyOut(h, [0, 100], [x, y]);
  t.deepEqual([...x, ...y], [1, 2, 3, 9, 8]);
  native.close(h);
});

test('32-bit flags are shared between mappings', (t) => {
  const f = file('c');
  const a = native.open(f, 4096, true);
  const b = native.open(f, 0, false);
  t.is(native.load32(b, 64), 0);
  native.store32(a, 64, 2);
  t.is(native.load32(b, 64), 2);
  t.throws(() => native.load32(a, 63), { code: 'EINVAL' });
  native.close(a);
  native.close(b);
});

test('errors carry the errno name: existing file, missing file, out of range, closed handle', (t) => {
  const f = file('d');
  const h = native.open(f, 4096, true);
  t.throws(() => native.open(f, 4096, true), { code: 'EEXIST', message: /creating .*d: File exists/ });
  t.throws(() => native.open(file('missing'), 0, false), { code: 'ENOENT' });
  t.throws(() => native.copyInSync(h, [4000], [new Uint8Array(200)]), { code: 'ERANGE', message: /outside/ });
  native.close(h);
  t.throws(() => native.size(h), { code: 'EBADF' });
  t.throws(() => native.open(file('e'), 0, true), { code: 'EINVAL' });
  t.false(fs.existsSync(file('e')), 'a failed create leaves no file');
});

test('reserving more than the file system has fails with ENOSPC, and leaves no file', (t) => {
  const free = native.available(dir);
  t.true(free > 0);
  const f = file('huge');
  const err = t.throws(() => native.open(f, free * 2 + 2 ** 30, true)) as NodeJS.ErrnoException;
  t.is(err.code, 'ENOSPC', err.message);
  t.false(fs.existsSync(f));
});

test('a large copy of several pieces, striped over threads, lands byte for byte both ways', async (t) => {
  const h = native.open(file('stripes'), 24 << 20, true);
  const sizes = [5 << 20, 3, 7 << 20, (1 << 20) + 17];
  const pieces = sizes.map((n, k) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = (i * 31 + k) & 0xff;
    return b;
  });
  // Buffer.equals: ava's deepEqual walks large arrays element by element (tens of seconds).
  const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
  const offsets: number[] = [];
  let at = 100;
  for (const n of sizes) {
    offsets.push(at);
    at += n + 64;
  }
  await native.copyIn(h, offsets, pieces);
  const back = sizes.map((n) => new Uint8Array(n));
  await native.copyOut(h, offsets, back);
  back.forEach((b, k) => t.true(same(b, pieces[k]!), `piece ${k}`));
  const one = new Uint8Array(sizes[2]!);
  native.copyOutSync(h, [offsets[2]!], [one]);
  t.true(same(one, pieces[2]!));
  native.close(h);
});
