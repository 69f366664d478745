/** The CLI end to end: exit codes and what it prints, on small fake targets. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const cli = path.join(__dirname, 'cli.js');
const run = (args: string[], cwd = __dirname) => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd, timeout: 240_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};
/** One quick endpoint test of the fake two-sided transport: enough to see the target was found. */
const QUICK = ['--endpoint-only', '--match', '*create a group of 2*'];

/**
 * A transport package as its author has it while developing: a directory with a package.json
 * whose entry registers the fake two-sided transport. The entry is named only in "exports" (no
 * "main", not index.js), so nothing but the package's own exports finds it.
 */
function authorsPackage(t: { teardown(fn: () => void): void }): { dir: string; name: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tensorwire-conformance-pkg-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const name = '@acme/tensorwire-fake';
  const pkg = {
    name,
    version: '1.0.0',
    exports: { '.': { types: './lib/entry.d.ts', require: './lib/entry.js' }, './package.json': './package.json' },
    tensorwire: { transport: 'fake-tcp' },
  };
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  const fixture = path.join(__dirname, 'fixtures', 'fake-two-sided.js');
  fs.mkdirSync(path.join(dir, 'lib'));
  fs.writeFileSync(path.join(dir, 'lib', 'entry.js'), `module.exports = require(${JSON.stringify(fixture)});\n`);
  return { dir, name };
}

test('an unavailable transport fails with the probe detail and the fix', (t) => {
  const r = run(['./fixtures/fake-unavailable.js']);
  t.is(r.code, 1, r.out);
  t.regex(r.out, /libfake\.so\.1 not found/);
  t.regex(r.out, /Fix: apt-get install libfake1/);
  t.regex(r.out, /FAILED/);
});

test('--skip-unavailable turns that into skipped tests and exit code 0', (t) => {
  const r = run(['./fixtures/fake-unavailable.js', '--skip-unavailable']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /skipped: probe\(\) says 'fake-unavailable' cannot run here/);
});

test('a module that registers no transport fails, saying what a transport package must do', (t) => {
  const r = run(['./testing/pattern.js']);
  t.is(r.code, 1, r.out);
  t.regex(r.out, /did not register a tensor transport/);
});

test('a missing package is a usage error (exit code 2)', (t) => {
  const r = run(['@tensorwire/does-not-exist']);
  t.is(r.code, 2, r.out);
  t.regex(r.out, /cannot find '@tensorwire\/does-not-exist'/);
});

test('a passing run prints each test and the summary, exit code 0', (t) => {
  const r = run(['./fixtures/fake-two-sided.js', ...QUICK]);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /✔ \[fake-tcp\] endpoint\/cpu: create a group of 2/);
  t.regex(r.out, /tests? passed/);
  t.regex(r.out, /PASSED/);
});

test("'.' inside the transport package runs the suite on it (its exports entry)", (t) => {
  const { dir } = authorsPackage(t);
  const r = run(['.', ...QUICK], dir);
  t.is(r.code, 0, r.out);
  t.regex(r.out, new RegExp(`tensorwire-conformance: \\. \\(${path.join(fs.realpathSync(dir), 'lib', 'entry.js').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\)`));
  t.regex(r.out, /✔ \[fake-tcp\] endpoint\/cpu: create a group of 2/);
  t.regex(r.out, /PASSED/);
});

test("the package's own name inside its directory runs the suite on it", (t) => {
  const { dir, name } = authorsPackage(t);
  const r = run([name, ...QUICK], dir);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /✔ \[fake-tcp\] endpoint\/cpu: create a group of 2/);
  t.regex(r.out, /PASSED/);
});

test("the CUDA variant: --device cuda --cuda-driver mock runs the suite on CUDA tensors without a GPU", (t) => {
  const r = run(['@tensorwire/cuda-ipc', '--device', 'cuda', '--cuda-driver', 'mock', '--endpoint-only', '--match', '*register, read, release, close*']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /✔ \[cuda-ipc\] endpoint\/cuda one-sided: register, read, release, close/);
  t.regex(r.out, /@tensorwire\/cuda-ipc: PASSED/);
});

test('--device and --cuda-driver take only the values they name', (t) => {
  t.is(run(['@tensorwire/cuda-ipc', '--device', 'tpu']).code, 2);
  const r = run(['@tensorwire/cuda-ipc', '--cuda-driver', 'fake']);
  t.is(r.code, 2);
  t.regex(r.out, /--cuda-driver: 'real', 'mock' or 'auto', got 'fake'/);
});
