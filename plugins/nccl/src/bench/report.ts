/** The NCCL benchmark's report: a table of every path, and the targets judged from it. */
import { sizeName, type PathReport, type SizeResult } from './results';

export interface NcclBenchReport {
  readonly when: string;
  readonly mock: boolean;
  readonly nccl: string;
  readonly paths: readonly PathReport[];
}

function cell(r: SizeResult | undefined): string {
  if (!r) return '–';
  return r.size <= 64 * 1024 ? `${r.medianUs.toFixed(0)} us` : `${r.gbps.toFixed(2)} GB/s`;
}

const at = (p: PathReport | undefined, size: number) => p?.results.find((r) => r.size === size);

/** "x% of y" lines for the targets: >= 90% of bare NCCL from 64 MiB, ahead of torch from 1 MiB. */
export function judge(report: NcclBenchReport): string[] {
  const bare = report.paths.find((p) => p.path.startsWith('bare NCCL'));
  const torch = report.paths.find((p) => p.path.startsWith('torch'));
  const ours = report.paths.filter((p) => p.path.startsWith('nccl GPU object'));
  const sizes = [...new Set(report.paths.flatMap((p) => p.results.map((r) => r.size)))].sort((a, b) => a - b);
  const lines: string[] = [];
  for (const p of ours) {
    const vsBare = sizes.filter((s) => s >= 64 << 20 && at(bare, s) && at(p, s)).map((s) => {
      const pct = (at(p, s)!.gbps / at(bare, s)!.gbps) * 100;
      return `${sizeName(s)} ${pct.toFixed(0)}%${pct >= 90 ? '' : ' (below 90%)'}`;
    });
    if (vsBare.length) lines.push(`${p.path} vs bare NCCL (target >= 90% from 64 MiB): ${vsBare.join(', ')}`);
    const vsTorch = sizes.filter((s) => s >= 1 << 20 && at(torch, s) && at(p, s)).map((s) => {
      const x = at(p, s)!.gbps / at(torch, s)!.gbps;
      return `${sizeName(s)} ${x.toFixed(2)}x${x > 1 ? '' : ' (behind)'}`;
    });
    if (vsTorch.length) lines.push(`${p.path} vs torch.distributed (target: ahead from 1 MiB): ${vsTorch.join(', ')}`);
  }
  return lines;
}

export function formatReport(report: NcclBenchReport): string {
  const sizes = [...new Set(report.paths.flatMap((p) => p.results.map((r) => r.size)))].sort((a, b) => a - b);
  const lines = [
    `# NCCL benchmark (${report.when})`,
    '',
    report.mock
      ? '**On the mocks (mock CUDA driver, mock NCCL): these numbers measure sockets on the host, not a GPU. They only show the paths run.**'
      : `NCCL ${report.nccl} on a GPU.`,
    '',
    `| path | ${sizes.map(sizeName).join(' | ')} |`,
    `|---|${sizes.map(() => '---').join('|')}|`,
    ...report.paths.map((p) => (p.skipped ? `| ${p.path} | skipped: ${p.skipped} |` : `| ${p.path} | ${sizes.map((s) => cell(at(p, s))).join(' | ')} |`)),
    '',
    ...report.paths.filter((p) => p.note).map((p) => `- ${p.path}: ${p.note}`),
  ];
  const verdicts = judge(report);
  if (verdicts.length) lines.push('', '## Against the targets', '', ...verdicts.map((v) => `- ${v}`));
  return lines.join('\n');
}
