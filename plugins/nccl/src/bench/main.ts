/**
 * `node plugins/nccl/dist/bench/main.js [--sizes 1024,1048576] [--reps N] [--skip torch] [--out DIR]`:
 * the NCCL benchmark (run.ts); prints the report (markdown) and, with --out, writes
 * nccl-bench.md and nccl-bench.json there. scripts/gpu-check.sh runs it on a GPU machine.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatReport } from './report';
import { runNcclBench } from './run';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const sizes = arg('sizes')?.split(',').map(Number);
  const reps = arg('reps') ? Number(arg('reps')) : undefined;
  const report = await runNcclBench({
    sizes,
    reps: reps ? () => reps : undefined,
    skip: arg('skip')?.split(','),
    log: (l) => console.error(`[nccl bench] ${l}`),
  });
  const text = formatReport(report);
  console.log(text);
  const out = arg('out');
  if (out) {
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'nccl-bench.md'), text + '\n');
    fs.writeFileSync(path.join(out, 'nccl-bench.json'), JSON.stringify(report, null, 2) + '\n');
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? `${err.name}: ${err.message}` : err);
  process.exit(1);
});
