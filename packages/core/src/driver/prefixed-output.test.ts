import test from 'ava';
import { actorOutputPrefix, PrefixedOutput } from './prefixed-output';

function collect(maxHeld?: number): { out: PrefixedOutput; writes: string[] } {
  const writes: string[] = [];
  return { out: new PrefixedOutput('(W pid=7) ', (b) => writes.push(b.toString('utf8')), maxHeld), writes };
}

test('each line gets the prefix; lines split across chunks are joined first', (t) => {
  const { out, writes } = collect();
  out.push(Buffer.from('one\ntw'));
  out.push(Buffer.from('o\nthree'));
  out.push(Buffer.from('\n'));
  t.is(writes.join(''), '(W pid=7) one\n(W pid=7) two\n(W pid=7) three\n');
  t.true(writes.every((w) => w.endsWith('\n')), 'only whole lines are written');
});

test('a partial last line is written at the end, with a newline; an empty stream writes nothing', (t) => {
  const { out, writes } = collect();
  out.push(Buffer.from('done\nno newline'));
  out.end();
  t.is(writes.join(''), '(W pid=7) done\n(W pid=7) no newline\n');
  const empty = collect();
  empty.out.end();
  t.deepEqual(empty.writes, []);
});

test('multi-byte characters split between chunks and CRLF endings pass through intact', (t) => {
  const { out, writes } = collect();
  const bytes = Buffer.from('héllo ✓\r\n');
  out.push(bytes.subarray(0, 2)); // splits 'é'
  out.push(bytes.subarray(2, 8)); // splits '✓'
  out.push(bytes.subarray(8));
  t.is(writes.join(''), '(W pid=7) héllo ✓\r\n');
});

test('a line longer than the held limit is written in pieces, prefixed once', (t) => {
  const { out, writes } = collect(8);
  out.push(Buffer.from('0123456789'));
  out.push(Buffer.from('abc\nnext\n'));
  t.is(writes.join(''), '(W pid=7) 0123456789abc\n(W pid=7) next\n');
});

test('the prefix is Ray\'s: (ClassName pid=N)', (t) => {
  t.is(actorOutputPrefix('MyActor', 123), '(MyActor pid=123) ');
});
