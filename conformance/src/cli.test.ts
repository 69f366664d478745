/** The CLI end to end: exit codes and what it prints, on small fake targets. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const cli = path.join(__dirname, 'cli.js');
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: __dirname, timeout: 240_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};

test('an unavailable transport fails with the probe detail and the fix', (t) => {
  const r = run('./fixtures/fake-unavailable.js');
  t.is(r.code, 1, r.out);
  t.regex(r.out, /libfake\.so\.1 not found/);
  t.regex(r.out, /Fix: apt-get install libfake1/);
  t.regex(r.out, /FAILED/);
});

test('--skip-unavailable turns that into skipped tests and exit code 0', (t) => {
  const r = run('./fixtures/fake-unavailable.js', '--skip-unavailable');
  t.is(r.code, 0, r.out);
  t.regex(r.out, /skipped: probe\(\) says 'fake-unavailable' cannot run here/);
});

test('a module that registers no transport fails, saying what a transport package must do', (t) => {
  const r = run('./testing/pattern.js');
  t.is(r.code, 1, r.out);
  t.regex(r.out, /did not register a tensor transport/);
});

test('a missing package is a usage error (exit code 2)', (t) => {
  const r = run('@tensorwire/does-not-exist');
  t.is(r.code, 2, r.out);
  t.regex(r.out, /cannot find '@tensorwire\/does-not-exist'/);
});

test('a passing run prints each test and the summary, exit code 0', (t) => {
  const r = run('./fixtures/fake-two-sided.js', '--endpoint-only', '--match', '*create a group of 2*');
  t.is(r.code, 0, r.out);
  t.regex(r.out, /✔ \[fake-tcp\] endpoint\/cpu: create a group of 2/);
  t.regex(r.out, /tests? passed/);
  t.regex(r.out, /PASSED/);
});
