import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { MAIN_JS, runCli } from './cli-fixtures';

test('the compiled CLI starts with a node shebang (it is the package bin)', (t) => {
  t.is(fs.readFileSync(MAIN_JS, 'utf8').split('\n')[0], '#!/usr/bin/env node');
});

test('--help prints the usage and exits 0', async (t) => {
  const r = await runCli(['--help'], os.tmpdir());
  t.is(r.code, 0);
  t.regex(r.stdout, /^Usage: tensorwire <command>/);
  t.regex(r.stdout, /doctor/);
  t.regex(r.stdout, /--json/);
});

test('no command prints the usage and exits 0', async (t) => {
  const r = await runCli([], os.tmpdir());
  t.is(r.code, 0);
  t.regex(r.stdout, /^Usage: tensorwire/);
});

test('an unknown command is a usage error naming it (exit 2)', async (t) => {
  const r = await runCli(['frobnicate'], os.tmpdir());
  t.is(r.code, 2);
  t.is(r.stdout, '');
  t.regex(r.stderr, /unknown command 'frobnicate'/);
  t.regex(r.stderr, /tensorwire --help/);
});

test('an unknown doctor option is a usage error (exit 2)', async (t) => {
  const r = await runCli(['doctor', '--colour'], os.tmpdir());
  t.is(r.code, 2);
  t.regex(r.stderr, /unknown option for doctor: '--colour'/);
});

test('a bad --timeout is a usage error (exit 2)', async (t) => {
  const r = await runCli(['doctor', '--timeout', 'soon'], os.tmpdir());
  t.is(r.code, 2);
  t.regex(r.stderr, /--timeout needs a positive whole number/);
});

test('--version prints the version of @tensorwire/core', async (t) => {
  const r = await runCli(['--version'], os.tmpdir());
  t.is(r.code, 0);
  t.regex(r.stdout.trim(), /^\d+\.\d+\.\d+/);
});
