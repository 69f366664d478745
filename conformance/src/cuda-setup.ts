/**
 * What the CUDA variants of the suite need before any test runs: `@tensorwire/cuda` (the suite
 * builds its CUDA tensors with it, in the test process, the peers and the actors), and a CUDA
 * driver. The driver is chosen once per test process, through the environment that every
 * process the suite starts inherits:
 * - TENSORWIRE_LIBCUDA, when set, is used as it is (a real driver's path, or the mock's);
 * - `cudaDriver: 'mock'`: @tensorwire/cuda's mock driver (CUDA code paths without a GPU);
 * - `cudaDriver: 'auto'`: the machine's driver when it sees a GPU, else the mock;
 * - `cudaDriver: 'real'` (the default): the machine's driver (libcuda.so.1).
 * Set before the first CUDA use of the test process (a process keeps the driver it opened first).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Availability } from '@tensorwire/core';
import type { EffectiveOptions } from './options';
import { CUDA_MODULE_ENV } from './testing/cuda-tensors';

/** How the CUDA variants can run here. */
export type CudaSetup =
  | { readonly ready: true; readonly detail: string }
  /** @tensorwire/cuda is not installed: the CUDA variants are skipped with `reason`. */
  | { readonly ready: false; readonly missing: true; readonly reason: string }
  /** CUDA cannot be used here: the CUDA variants fail (or are skipped with skipUnavailable). */
  | { readonly ready: false; readonly missing: false; readonly reason: string };

const LIBCUDA_ENV = 'TENSORWIRE_LIBCUDA';
let decided: CudaSetup | undefined;

/** Where `@tensorwire/cuda` resolves from the run's directory, the target's, or the suite's. */
function resolveCuda(cwd: string, targetModule: string, sub = ''): string | undefined {
  try {
    return require.resolve(`@tensorwire/cuda${sub}`, { paths: [cwd, path.dirname(targetModule), __dirname] });
  } catch {
    return undefined;
  }
}

/** CUDA's availability as a fresh process with this environment sees it (never throws). */
function availabilityInChild(cudaModule: string): Availability & { mock?: boolean } {
  const script =
    `const c = require(${JSON.stringify(cudaModule)});` +
    "c.availability().then((a) => process.stdout.write('\\n@@cuda ' + JSON.stringify({ available: a.available, detail: a.detail, fix: a.fix })))";
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('@@cuda '));
  if (line) return JSON.parse(line.slice('@@cuda '.length)) as Availability;
  return { available: false, detail: `checking CUDA crashed its process: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}` };
}

/** Finds @tensorwire/cuda and sets up the driver (once per process). */
export function prepareCuda(opts: EffectiveOptions, targetModule: string): CudaSetup {
  if (decided) return decided;
  const cudaModule = resolveCuda(opts.cwd, targetModule);
  if (!cudaModule) {
    return (decided = {
      ready: false,
      missing: true,
      reason: '@tensorwire/cuda is not installed where the suite runs (it builds the CUDA test tensors): npm install --save-dev @tensorwire/cuda',
    });
  }
  process.env[CUDA_MODULE_ENV] = cudaModule;
  let driver = process.env[LIBCUDA_ENV] ? `${LIBCUDA_ENV}=${process.env[LIBCUDA_ENV]}` : '';
  if (!driver && opts.cudaDriver !== 'real') {
    const useMock = opts.cudaDriver === 'mock' || !availabilityInChild(cudaModule).available;
    if (useMock) {
      const testing = resolveCuda(opts.cwd, targetModule, '/testing');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mockPath = testing ? (require(testing) as { mockLibraryPath: string }).mockLibraryPath : undefined;
      if (!mockPath || !fs.existsSync(mockPath)) {
        return (decided = { ready: false, missing: false, reason: `the mock CUDA driver is not built (${mockPath ?? '@tensorwire/cuda/testing not found'}): npm run build -w @tensorwire/cuda` });
      }
      process.env[LIBCUDA_ENV] = mockPath;
      driver = `the mock driver (${opts.cudaDriver === 'auto' ? 'no GPU here' : "cudaDriver: 'mock'"})`;
    }
  }
  const a = availabilityInChild(cudaModule);
  if (!a.available) {
    return (decided = {
      ready: false,
      missing: false,
      reason:
        `CUDA is not available here (${driver || 'the machine\'s driver'}): ${a.detail}` + (a.fix ? `. Fix: ${a.fix}` : '') +
        ". To run the CUDA variants on @tensorwire/cuda's mock driver: cudaDriver: 'mock' (CLI: --cuda-driver mock)",
    });
  }
  return (decided = { ready: true, detail: `@tensorwire/cuda (${cudaModule}), ${driver || "the machine's driver"}: ${a.detail}` });
}
