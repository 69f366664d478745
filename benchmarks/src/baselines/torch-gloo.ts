/**
 * torch.distributed's gloo send/recv (Debian's python3-torch) as a peer baseline, measured in
 * the same run. Skipped with a reason when /usr/bin/python3 cannot import torch
 * (torch-setup.ts installs it when the run was asked to: `npm run bench -- --with-torch`).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { measurement, type Measurement } from '../harness/stats';
import { LABELS } from '../harness/labels';

/** The Python that runs the torch peer: TENSORWIRE_BENCH_PYTHON, else Debian's /usr/bin/python3. */
export const TORCH_PYTHON = process.env.TENSORWIRE_BENCH_PYTHON ?? '/usr/bin/python3';

export function canImportTorch(): boolean {
  return spawnSync(TORCH_PYTHON, ['-c', 'import torch.distributed'], { encoding: 'utf8' }).status === 0;
}

export function torchGlooBaseline(sizes: readonly number[], reps = 7): Measurement[] {
  if (!canImportTorch()) throw new Error(`${TORCH_PYTHON} cannot import torch`);
  // The peer file ships in src/ (not compiled); find it from dist/ too.
  const script = path.resolve(__dirname, '..', '..', 'src', 'baselines', 'torch_gloo_peer.py');
  const port = 29_500 + (process.pid % 1000);
  const run = spawnSync(TORCH_PYTHON, [script, String(port), sizes.join(','), String(reps)], { encoding: 'utf8', timeout: 600_000 });
  if (run.status !== 0) throw new Error(`torch gloo peer failed: ${run.stderr.split('\n').slice(-3).join(' ')}`);
  return run.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { bytes: number; medianUs: number; reps: number })
    .map((r) => ({ ...measurement(LABELS.torchGloo, r.bytes, [r.medianUs * 1000]), reps: r.reps }));
}
