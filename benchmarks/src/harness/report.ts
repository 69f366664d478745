/** Writes a run's measurements as JSON, Markdown tables (transfers, targets, other shapes) and an SVG plot. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sizeLabel, type Measurement } from './stats';

/** A row of the transfer table that did not run, with why and how to get it. */
export interface SkippedRow {
  path: string;
  why: string;
}

export function markdownTable(results: readonly Measurement[], skipped: readonly SkippedRow[] = []): string {
  const sizes = [...new Set(results.filter((r) => r.bytes > 1).map((r) => r.bytes))].sort((a, b) => a - b);
  const paths = [...new Set(results.filter((r) => r.bytes > 1).map((r) => r.path))];
  const cell = (p: string, n: number): string => {
    const m = results.find((r) => r.path === p && r.bytes === n);
    if (!m) return '-';
    return n <= 1 << 10 ? `${m.medianUs.toFixed(0)} us` : `${m.gbps.toFixed(2)} GB/s`;
  };
  const lines = [
    `| path | ${sizes.map(sizeLabel).join(' | ')} |`,
    `|---|${sizes.map(() => '---').join('|')}|`,
    ...paths.map((p) => `| ${p} | ${sizes.map((n) => cell(p, n)).join(' | ')} |`),
    ...skipped.map((s) => `| ${s.path} | skipped: ${s.why} |${sizes.slice(1).map(() => ' |').join('')}`),
  ];
  const latency = results.filter((r) => r.bytes <= 1);
  if (latency.length) {
    lines.push('', '| round trip | median | p90 |', '|---|---|---|');
    for (const m of latency) lines.push(`| ${m.path} | ${m.medianUs.toFixed(1)} us | ${m.p90Us.toFixed(1)} us |`);
  }
  return lines.join('\n');
}

/** Ratio of path `a` to path `b` in throughput at `bytes` (undefined when either is missing). */
export function ratio(results: readonly Measurement[], a: string, b: string, bytes: number): number | undefined {
  const x = results.find((r) => r.path === a && r.bytes === bytes);
  const y = results.find((r) => r.path === b && r.bytes === bytes);
  return x && y ? x.gbps / y.gbps : undefined;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#17becf'];

/** Throughput (GB/s, log scale) against size (log scale), one line per path. */
export function svgPlot(results: readonly Measurement[], title: string): string {
  const data = results.filter((r) => r.bytes > 1);
  const paths = [...new Set(data.map((r) => r.path))];
  const sizes = [...new Set(data.map((r) => r.bytes))].sort((a, b) => a - b);
  const W = 760, H = 420, L = 70, R = 250, T = 40, B = 50;
  const ys = data.map((r) => r.gbps).filter((g) => g > 0);
  const yMin = Math.log10(Math.min(...ys) / 1.5), yMax = Math.log10(Math.max(...ys) * 1.5);
  const xMin = Math.log2(sizes[0]!), xMax = Math.log2(sizes[sizes.length - 1]!);
  const X = (n: number): number => L + ((Math.log2(n) - xMin) / Math.max(1, xMax - xMin)) * (W - L - R);
  const Y = (g: number): number => T + (1 - (Math.log10(g) - yMin) / (yMax - yMin)) * (H - T - B);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${L}" y="22" font-size="14">${title}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">transfer size</text>`,
    `<text transform="translate(18 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">GB/s (log)</text>`,
  ];
  for (const n of sizes) out.push(`<text x="${X(n)}" y="${H - B + 16}" text-anchor="middle">${sizeLabel(n)}</text>`);
  for (let e = Math.ceil(yMin); e <= Math.floor(yMax); e++) {
    const g = 10 ** e;
    out.push(`<line x1="${L}" y1="${Y(g)}" x2="${W - R}" y2="${Y(g)}" stroke="#ddd"/>`, `<text x="${L - 6}" y="${Y(g) + 4}" text-anchor="end">${g}</text>`);
  }
  paths.forEach((p, i) => {
    const c = COLORS[i % COLORS.length];
    const pts = data.filter((r) => r.path === p).sort((a, b) => a.bytes - b.bytes);
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((r) => `${X(r.bytes).toFixed(1)},${Y(r.gbps).toFixed(1)}`).join(' ')}"/>`);
    for (const r of pts) out.push(`<circle cx="${X(r.bytes).toFixed(1)}" cy="${Y(r.gbps).toFixed(1)}" r="3" fill="${c}"/>`);
    out.push(`<rect x="${W - R + 12}" y="${T + i * 20}" width="12" height="12" fill="${c}"/>`, `<text x="${W - R + 30}" y="${T + i * 20 + 10}">${p}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** A run as written to latest.json: the machine, the transfer measurements, and whatever else it measured. */
export interface RunRecord {
  machine: string;
  results: readonly Measurement[];
  skipped?: readonly SkippedRow[];
  [more: string]: unknown;
}

/** A titled Markdown section of latest.md after the transfer table (targets, other shapes). */
export interface ReportSection {
  title: string;
  markdown: string;
}

export function writeReport(dir: string, run: RunRecord, sections: readonly ReportSection[] = []): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const when = new Date().toISOString();
  const json = path.join(dir, 'latest.json');
  const md = path.join(dir, 'latest.md');
  const svg = path.join(dir, 'latest.svg');
  const { machine, results } = run;
  fs.writeFileSync(json, JSON.stringify({ when, ...run }, null, 2) + '\n');
  const parts = [
    `# tensorwire benchmark run\n\n${when} on ${machine}\n\nThroughput is bytes / median time (GB/s = 1e9 B/s); 1 KiB shows the median latency.\n\n${markdownTable(results, run.skipped)}`,
    ...sections.map((s) => `## ${s.title}\n\n${s.markdown}`),
  ];
  fs.writeFileSync(md, parts.join('\n\n') + '\n');
  fs.writeFileSync(svg, svgPlot(results, `tensorwire transfer throughput (${machine.split(',')[0]})`));
  return [json, md, svg];
}
