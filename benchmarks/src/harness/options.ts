/**
 * What `npm run bench` was asked to do: sizes and sections from the environment, flags from the
 * command line (`npm run bench -- --with-torch --out DIR`).
 *
 * Environment: BENCH_SIZES (comma-separated bytes; default 1 KiB, 1 MiB, 64 MiB, 256 MiB),
 * BENCH_RDT_SIZES (the RDT shapes' sizes; default Ray's 4 B, 150 KB, 1 MB, 100 MB, 1 GB),
 * BENCH_SKIP (comma list of sections: gloo, nixl, torch, multihost, ray, rdt, levers), BENCH_QUICK=1
 * (warm-ups and windows shortened tenfold: a smoke test of the bench, not figures),
 * BENCH_PUT_BYTES (the put shape's size; default Ray's 800 MiB), BENCH_LEVER_SIZES (the sizes of
 * the levers section: each lever off in turn; default 1 KiB, 64 MiB and 256 MiB).
 */
import * as path from 'node:path';
import { SIZES } from './stats';

export const SECTIONS = ['gloo', 'nixl', 'torch', 'multihost', 'ray', 'rdt', 'levers'] as const;

export interface RunOptions {
  sizes: number[];
  /** BENCH_RDT_SIZES; undefined: the RDT shapes' own (Ray's) sizes. */
  rdtSizes?: number[];
  /** BENCH_LEVER_SIZES: sizes of the levers section. */
  leverSizes: number[];
  skip: ReadonlySet<string>;
  /** --with-torch: install Debian's python3-torch first when torch is missing. */
  withTorch: boolean;
  /** --out DIR: where latest.{json,md,svg} go (default benchmarks/results). */
  outDir: string;
}

const USAGE = 'usage: npm run bench [-- [--with-torch] [--out DIR]]';

function sizesFrom(name: string, value: string): number[] {
  const sizes = value.split(',').map(Number);
  const bad = sizes.find((n) => !Number.isInteger(n) || n <= 0);
  if (bad !== undefined) throw new Error(`${name} must be comma-separated positive byte counts, got '${value}'`);
  return sizes;
}

export function runOptions(argv: readonly string[], env: NodeJS.ProcessEnv, defaultOut: string): RunOptions {
  let withTorch = false;
  let outDir = defaultOut;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--with-torch') withTorch = true;
    else if (arg === '--out' && argv[i + 1]) outDir = path.resolve(argv[++i]!);
    else throw new Error(`unknown argument '${arg}'; ${USAGE}`);
  }
  const skip = new Set((env.BENCH_SKIP ?? '').split(',').filter(Boolean));
  const unknown = [...skip].filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length) throw new Error(`BENCH_SKIP: unknown section(s) ${unknown.join(', ')}; known: ${SECTIONS.join(', ')}`);
  return {
    sizes: env.BENCH_SIZES ? sizesFrom('BENCH_SIZES', env.BENCH_SIZES) : [...SIZES],
    ...(env.BENCH_RDT_SIZES ? { rdtSizes: sizesFrom('BENCH_RDT_SIZES', env.BENCH_RDT_SIZES) } : {}),
    leverSizes: env.BENCH_LEVER_SIZES ? sizesFrom('BENCH_LEVER_SIZES', env.BENCH_LEVER_SIZES) : [1 << 10, 64 << 20, 256 << 20],
    skip,
    withTorch,
    outDir,
  };
}
