import test from 'ava';

// A Python that can never import torch: the paths below must not install anything.
process.env.TENSORWIRE_BENCH_PYTHON = '/bin/false';
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { ensureTorch } = require('./torch-setup') as typeof import('./torch-setup');

test('without --with-torch a missing torch is skipped with how to get it, nothing installed', (t) => {
  const said: string[] = [];
  const s = ensureTorch(false, (l) => said.push(l));
  t.false(s.available);
  if (!s.available) t.regex(s.why, /cannot import torch; `npm run bench -- --with-torch` installs Debian's python3-torch/);
  t.deepEqual(said, []);
});

test('--with-torch installs only for /usr/bin/python3: another Python is left to the user', (t) => {
  const said: string[] = [];
  const s = ensureTorch(true, (l) => said.push(l));
  t.false(s.available);
  if (!s.available) t.regex(s.why, /TENSORWIRE_BENCH_PYTHON=\/bin\/false cannot import torch; --with-torch installs only/);
  t.deepEqual(said, []);
});
