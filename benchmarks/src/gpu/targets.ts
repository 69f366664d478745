/** The GPU section's targets (issue 10), each printed as met / not met from one run's figures. */
import { ratio } from '../harness/report';
import type { Measurement } from '../harness/stats';
import type { TargetResult } from '../harness/targets-table';

const find = (rs: readonly Measurement[], p: string, n: number): Measurement | undefined => rs.find((r) => r.path === p && r.bytes === n);

export function evaluateTargets(rs: readonly Measurement[], labels: { cudaIpc: string; ceiling: string; storeCpu: string }): TargetResult[] {
  const out: TargetResult[] = [];
  for (const n of [...new Set(rs.map((r) => r.bytes))].filter((b) => b >= 256 << 20).sort((a, b) => a - b)) {
    const q = ratio(rs, labels.cudaIpc, labels.ceiling, n);
    out.push({ target: `cuda-ipc >= 80% of the bare cross-process copy at ${n >> 20} MiB`, value: q === undefined ? 'not measured' : `${(q * 100).toFixed(0)}%`, met: q === undefined ? undefined : q >= 0.8 });
  }
  const gpu = find(rs, labels.cudaIpc, 1024);
  const cpu = find(rs, labels.storeCpu, 1024);
  out.push({
    target: '1 KiB CUDA object between actors no slower than a 1 KiB CPU object through the object store',
    value: gpu && cpu ? `${gpu.medianUs.toFixed(0)} us vs ${cpu.medianUs.toFixed(0)} us` : 'not measured',
    met: gpu && cpu ? gpu.medianUs <= cpu.medianUs : undefined,
  });
  return out;
}
