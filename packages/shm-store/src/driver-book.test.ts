import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DriverBook } from './driver-book';
import { Mappings } from './mappings';
import { loadNative } from './native';
import { chunkFile, storeDir } from './names';

const native = loadNative();
const dir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'tw-book-test-'));
process.env.TENSORWIRE_SHM_STORE_DIR = dir;
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

const touch = (f: string): void => native.close(native.open(f, 4096, true));

test.serial('files a driver that no longer runs left behind are removed; a running driver\'s are not', (t) => {
  t.is(storeDir(), dir);
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const orphan = chunkFile(dir, dead, 'rid', 'a1@rid', 0);
  const ours = chunkFile(dir, process.pid, 'rid', 'a1@rid', 0);
  const parents = chunkFile(dir, process.ppid, 'rid', 'a1@rid', 0);
  [orphan, ours, parents].forEach(touch);
  fs.writeFileSync(path.join(dir, 'unrelated'), 'x');
  t.is(DriverBook.removeOrphans(native, dir), 1);
  t.deepEqual(fs.readdirSync(dir).sort(), [ours, parents, path.join(dir, 'unrelated')].map((f) => path.basename(f)).sort());
});

test.serial('a dead producer\'s files go with its last held value; shutdown removes the rest of the runtime\'s', (t) => {
  const book = new DriverBook(native, new Mappings(native));
  const a1 = [0, 1].map((n) => chunkFile(dir, process.pid, 'R', 'a1@R', n));
  const a2 = chunkFile(dir, process.pid, 'R', 'a2@R', 0);
  const a11 = chunkFile(dir, process.pid, 'R', 'a11@R', 0);
  const other = chunkFile(dir, process.pid, 'S', 'a1@S', 0);
  [...a1, a2, a11, other].forEach(touch);
  book.stored('a1@R');
  book.stored('a1@R');
  book.producerDied('a1@R');
  book.released('a1@R');
  t.true(a1.every((f) => fs.existsSync(f)), 'one value still held');
  book.released('a1@R');
  t.false(a1.some((f) => fs.existsSync(f)));
  t.true(fs.existsSync(a11), 'a11 is another actor');
  book.producerDied('a2@R');
  t.false(fs.existsSync(a2), 'nothing held: removed at once');
  book.shutdown('R');
  t.false(fs.existsSync(a11));
  t.true(fs.existsSync(other), 'another runtime\'s');
});
