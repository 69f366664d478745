import test from 'ava';
import { markdownTable } from './report';
import { measurement } from './stats';

test('a skipped row says why in a row as wide as the table', (t) => {
  const rs = [measurement('bare unix socket', 1024, [40_000]), measurement('bare unix socket', 1 << 20, [500_000])];
  const md = markdownTable(rs, [{ path: 'torch.distributed gloo send/recv', why: 'no torch; npm run bench -- --with-torch' }]);
  const lines = md.split('\n');
  t.is(lines[0], '| path | 1 KiB | 1 MiB |');
  const skipped = lines.find((l) => l.startsWith('| torch'))!;
  t.is(skipped, '| torch.distributed gloo send/recv | skipped: no torch; npm run bench -- --with-torch | |');
  t.is(skipped.split('|').length, lines[0]!.split('|').length);
});
