#!/usr/bin/env node
/**
 * `tensorwire-conformance <transport-package> [options]`: run the shared conformance suite on a
 * transport package (a name installed where you run it, `.` or the name of the package you are
 * in, or a path to its built module).
 * Prints every test and a pass/fail summary; exits non-zero when a test failed.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { OPTIONS_ENV, TARGET_ENV } from './entry/env';
import type { ConformanceOptions } from './options';
import { resolveModulePath } from './target';

const USAGE = `usage: tensorwire-conformance <transport-package | . | path/to/module.js> [options]

Runs the tensorwire transport conformance suite on a transport package. Importing the package
must register its plugin with registerTransport() from '@tensorwire/core'. Inside the package's
own directory, '.' or its name stands for the package (its "exports", else its "main").

options:
  --skip-unavailable   skip (instead of fail) when the transport's probe() says it cannot run here
  --endpoint-only      only the endpoint-level tests (no tensorwire runtime)
  --system-only        only the system-level tests (through the runtime)
  --large-mib <n>      size of the large-tensor tests in MiB (default 256)
  --timeout-ms <n>     deadline handed to transport operations (default 15000)
  --device <cpu|cuda>  only this device's variant (may repeat; default every device the
                       transport supports). CUDA variants need @tensorwire/cuda installed
  --cuda-driver <real|mock|auto>
                       the CUDA driver of the CUDA variants: real (default) the machine's;
                       mock @tensorwire/cuda's mock driver (no GPU needed); auto the machine's
                       when it sees a GPU, else the mock. TENSORWIRE_LIBCUDA, when set, wins
  --match <pattern>    only tests whose title matches (ava --match), may repeat
  --tap                TAP output instead of ava's default reporter
  -h, --help           this text`;

function main(): void {
  const args = process.argv.slice(2);
  const options: { -readonly [K in keyof ConformanceOptions]: ConformanceOptions[K] } = {};
  const avaArgs: string[] = [];
  let target: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '-h':
      case '--help':
        console.log(USAGE);
        return;
      case '--skip-unavailable':
        options.skipUnavailable = true;
        break;
      case '--endpoint-only':
        options.levels = ['endpoint'];
        break;
      case '--system-only':
        options.levels = ['system'];
        break;
      case '--large-mib':
        options.largeBytes = Number(value()) * 1024 * 1024;
        break;
      case '--timeout-ms':
        options.timeoutMs = Number(value());
        break;
      case '--device': {
        const v = value();
        if (v !== 'cpu' && v !== 'cuda') fail(`--device: 'cpu' or 'cuda', got '${v}'`);
        options.devices = [...(options.devices ?? []), v as 'cpu' | 'cuda'];
        break;
      }
      case '--cuda-driver': {
        const v = value();
        if (v !== 'real' && v !== 'mock' && v !== 'auto') fail(`--cuda-driver: 'real', 'mock' or 'auto', got '${v}'`);
        options.cudaDriver = v as 'real' | 'mock' | 'auto';
        break;
      }
      case '--match':
        avaArgs.push('--match', value());
        break;
      case '--tap':
        avaArgs.push('--tap');
        break;
      default:
        if (a.startsWith('-')) fail(`unknown option ${a}`);
        if (target) fail(`one transport at a time (got '${target}' and '${a}')`);
        target = a;
    }
  }
  if (!target) fail('which transport? Give a package name or a path.');

  let modulePath: string;
  try {
    modulePath = resolveModulePath(target!, process.cwd());
  } catch (e) {
    fail(`cannot find '${target}' from ${process.cwd()}: ${(e as Error).message}`);
  }
  options.cwd = process.cwd();

  const packageDir = path.resolve(__dirname, '..');
  const avaCli = path.join(path.dirname(require.resolve('ava')), 'cli.mjs');
  console.log(`tensorwire-conformance: ${target} (${modulePath!})`);
  const child = spawn(
    process.execPath,
    [avaCli, '--config', path.join(packageDir, 'ava.conformance.config.cjs'), ...avaArgs],
    {
      cwd: packageDir,
      stdio: 'inherit',
      env: { ...process.env, [TARGET_ENV]: modulePath!, [OPTIONS_ENV]: JSON.stringify(options) },
    },
  );
  child.on('exit', (code, signal) => {
    const ok = code === 0;
    console.log(`tensorwire-conformance: ${target}: ${ok ? 'PASSED' : `FAILED (${signal ?? `exit code ${code}`})`}`);
    process.exit(ok ? 0 : code || 1);
  });
}

function fail(message: string): never {
  console.error(`tensorwire-conformance: ${message}\n\n${USAGE}`);
  process.exit(2);
}

main();
