import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Arena, MIN_CHUNK_BYTES } from './arena';
import { BlockState, HEADER_BYTES } from './block';
import { Mappings } from './mappings';
import { loadNative } from './native';

const native = loadNative();
const dir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'tw-arena-test-'));
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

let seq = 0;
function arena(maxBytes: number): { a: Arena; m: Mappings } {
  const m = new Mappings(native);
  const tag = ++seq;
  return { a: new Arena(native, m, (n) => path.join(dir, `t${tag}-${n}`), maxBytes), m };
}

test('blocks come from one chunk, by size class; a block the driver released is reused', (t) => {
  const { a } = arena(1 << 30);
  const b1 = a.allocate(1 << 20)!;
  const b2 = a.allocate((1 << 20) + 1)!;
  t.is(b1.file, b2.file);
  t.is(b1.capacity, 1 << 20);
  t.is(b2.capacity, (1 << 20) + (1 << 17), 'rounded up to 1/8 of its power of two');
  t.true(b2.header >= b1.header + HEADER_BYTES + b1.capacity);
  t.is(native.load32(b1.handle, b1.header), BlockState.Held);
  t.like(a.stats(), { chunks: 1, chunkBytes: MIN_CHUNK_BYTES, blocksHeld: 2, blocksFree: 0, cut: 2, reused: 0 });
  // The driver marks b1 released (through its own mapping of the file).
  const driverSide = new Mappings(native);
  native.store32(driverSide.open(b1.file), b1.header, BlockState.Released);
  t.like(a.stats(), { blocksHeld: 1, blocksFree: 1 });
  const b3 = a.allocate(1_000_000)!;
  t.is(b3.header, b1.header, 'same size class: the released block');
  t.like(a.stats(), { blocksHeld: 2, blocksFree: 0, reused: 1 });
  driverSide.close(b1.file);
});

test('a value larger than a chunk gets a chunk of its size; past the bound allocate says no', (t) => {
  const { a } = arena(100 << 20);
  const big = a.allocate(70 << 20)!;
  t.truthy(big);
  t.true(native.size(big.handle) >= 70 << 20);
  t.is(a.allocate(40 << 20), undefined, 'a second chunk would pass the bound');
  a.giveBack(big);
  t.truthy(a.allocate(70 << 20), 'a block given back is reused');
});

test('mappings: a reader unmaps chunks whose files were removed when it maps a new one', (t) => {
  const { a } = arena(1 << 30);
  const b = a.allocate(1 << 20)!;
  const reader = new Mappings(native);
  reader.open(b.file);
  t.deepEqual(reader.files(), [b.file]);
  fs.rmSync(b.file);
  const other = path.join(dir, 'other');
  native.close(native.open(other, 4096, true));
  reader.open(other);
  t.deepEqual(reader.files(), [other]);
});
