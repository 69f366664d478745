/**
 * `node dist/bench/cuda-staging-main.js [--sizes 1024,1048576,...] [--reps N] [--out DIR]`: the
 * CUDA-vs-CPU nixl read comparison (cuda-staging.ts), printed as a table; with --out also
 * written to DIR/nixl-cuda-staging.json. Run by scripts/gpu-check.sh on a GPU machine (and on
 * the mock in its dry run, where the figures mean nothing).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatCudaStaging, runCudaStagingRead } from './cuda-staging';

const DEFAULT_SIZES = [1024, 2 ** 20, 64 * 2 ** 20, 256 * 2 ** 20];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const sizes = arg('--sizes')?.split(',').map(Number) ?? DEFAULT_SIZES;
  const reps = Number(arg('--reps') ?? 20);
  const result = await runCudaStagingRead({ sizes, reps });
  console.log(formatCudaStaging(result));
  const out = arg('--out');
  if (out) fs.writeFileSync(path.join(out, 'nixl-cuda-staging.json'), JSON.stringify(result, null, 2));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`nixl CUDA staging benchmark failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
