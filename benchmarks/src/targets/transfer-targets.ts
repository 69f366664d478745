/**
 * Issue 12's targets, evaluated from one `npm run bench` run's figures (one host; the
 * "2 hosts:" rows are not targets), each printed with met / not met and the measured ratio:
 * - a 1 KiB object between two actors, every path: <= 3x the empty call round trip;
 * - the GPU-object paths never slower than the object store at any size;
 * - gloo GPU object >= 90% of bare gloo, and ahead of torch.distributed gloo (when measured),
 *   at 64 MiB and above;
 * - nixl GPU object >= 80% of the bare UCX read at 64 MiB and above, each memory kind against
 *   its own ceiling (pool memory: the read of pool memory; Node memory: the read of Node memory);
 * - a CPU tensor between two actors on one host >= 50% of memcpy at 256 MiB by a default path
 *   (ordinary memory: not a tensor allocated from a transport's registered pool)
 *   (the object store: what a method returning a tensor uses), with the best path beside it;
 * - the object store >= 2x a bare socket at 64 MiB and above.
 */
import { LABELS } from '../harness/labels';
import { sizeLabel, type Measurement } from '../harness/stats';
import type { TargetResult } from '../harness/targets-table';

const LARGE = 64 << 20;
const MEMCPY_SIZE = 256 << 20;

/** The one-host actor-to-actor paths the targets speak of; the GPU-object ones after the store. */
const GPU_PATHS = [LABELS.glooObject, LABELS.nixlNode, LABELS.nixlPool] as const;
const ACTOR_PATHS = [LABELS.objectStore, ...GPU_PATHS] as const;
/** The actor paths whose tensor is ordinary memory: what a user gets without allocating from a pool. */
const DEFAULT_MEMORY_PATHS = ACTOR_PATHS.filter((p) => p !== LABELS.nixlPool);

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
const gb = (m: Measurement): string => `${m.gbps.toFixed(2)} GB/s`;
const us = (m: Measurement): string => `${m.medianUs.toFixed(0)} us`;

class Figures {
  constructor(private readonly rs: readonly Measurement[]) {}
  at(path: string, bytes: number): Measurement | undefined {
    return this.rs.find((r) => r.path === path && r.bytes === bytes);
  }
  has(path: string): boolean {
    return this.rs.some((r) => r.path === path);
  }
  /** Sizes >= 64 MiB at which `path` was measured. */
  largeSizes(path: string): number[] {
    return [...new Set(this.rs.filter((r) => r.path === path && r.bytes >= LARGE).map((r) => r.bytes))].sort((a, b) => a - b);
  }
  /** Sizes at which both paths were measured (transfers, not round trips). */
  commonSizes(a: string, b: string): number[] {
    return [...new Set(this.rs.filter((r) => r.path === a && r.bytes > 1 && this.at(b, r.bytes)).map((r) => r.bytes))].sort((x, y) => x - y);
  }
}

function notMeasured(target: string, why: string): TargetResult {
  return { target, value: why, met: undefined };
}

/** How a throughput ratio passes and prints: "93%" or "2.10x". */
interface RatioRule {
  met: (ratio: number) => boolean;
  show: 'percent' | 'times';
}

const atLeast = (min: number, show: RatioRule['show'] = 'percent'): RatioRule => ({ met: (q) => q >= min, show });
/** Strictly faster ("ahead of"). */
const ahead: RatioRule = { met: (q) => q > 1, show: 'percent' };

/**
 * `path`'s throughput against `base`'s at every size >= 64 MiB where `path` ran (one result per
 * size), or one "not measured" line saying what is missing.
 */
function throughputRatio(f: Figures, path: string, base: string, rule: RatioRule, target: (size: string) => string, baseWhy?: string): TargetResult[] {
  const sizes = f.largeSizes(path);
  if (!f.has(path)) return [notMeasured(target('>= 64 MiB'), `no '${path}' rows in this run`)];
  if (sizes.length === 0) return [notMeasured(target('>= 64 MiB'), 'no size >= 64 MiB in this run (BENCH_SIZES)')];
  return sizes.map((n) => {
    const a = f.at(path, n)!;
    const b = f.at(base, n);
    if (!b) return notMeasured(target(sizeLabel(n)), baseWhy ?? `'${base}' not measured at ${sizeLabel(n)}`);
    const q = a.gbps / b.gbps;
    return { target: target(sizeLabel(n)), value: `${gb(a)} vs ${gb(b)} = ${rule.show === 'times' ? `${q.toFixed(2)}x` : pct(q)}`, met: rule.met(q) };
  });
}

export interface TargetInputs {
  /** Why the torch.distributed baseline did not run (undefined when it ran or was not asked). */
  torchSkipped?: string;
}

export function evaluateTransferTargets(results: readonly Measurement[], inputs: TargetInputs = {}): TargetResult[] {
  const f = new Figures(results);
  const out: TargetResult[] = [];

  // 1. A 1 KiB object on every path within 3 empty call round trips.
  const rtt = results.find((r) => r.path === LABELS.emptyCall);
  for (const p of ACTOR_PATHS) {
    const target = `1 KiB ${p} <= 3x the empty call round trip`;
    const m = f.at(p, 1024);
    if (!f.has(p)) continue; // a transport not installed here: its section said so
    if (!m) out.push(notMeasured(target, '1 KiB not in this run (BENCH_SIZES)'));
    else if (!rtt) out.push(notMeasured(target, 'no empty call round trip in this run'));
    else {
      const q = m.medianUs / rtt.medianUs;
      out.push({ target, value: `${us(m)} = ${q.toFixed(1)}x the empty call (${rtt.medianUs.toFixed(0)} us)`, met: q <= 3 });
    }
  }

  // 2. GPU-object paths never slower than the object store, at any size.
  for (const p of GPU_PATHS) {
    if (!f.has(p)) continue;
    const target = `${p} never slower than the object store`;
    const sizes = f.commonSizes(p, LABELS.objectStore);
    if (sizes.length === 0) {
      out.push(notMeasured(target, 'the object store path was not measured beside it'));
      continue;
    }
    const ratios = sizes.map((n) => ({ n, q: f.at(p, n)!.medianUs / f.at(LABELS.objectStore, n)!.medianUs }));
    const slower = ratios.filter((r) => r.q > 1);
    out.push({
      target,
      value: `time vs the object store's: ${ratios.map((r) => `${sizeLabel(r.n)} ${r.q.toFixed(2)}x`).join(', ')}${slower.length ? `; slower at ${slower.map((r) => sizeLabel(r.n)).join(', ')}` : ''}`,
      met: slower.length === 0,
    });
  }

  // 3. gloo against its bare ceiling and against torch.distributed.
  if (f.has(LABELS.glooObject)) {
    out.push(...throughputRatio(f, LABELS.glooObject, LABELS.bareGloo, atLeast(0.9), (s) => `gloo GPU object >= 90% of bare gloo at ${s}`));
    const torchWhy = inputs.torchSkipped ?? 'torch.distributed baseline not in this run';
    out.push(...throughputRatio(f, LABELS.glooObject, LABELS.torchGloo, ahead, (s) => `gloo GPU object ahead of torch.distributed gloo at ${s}`, torchWhy));
  }

  // 4. nixl against the bare UCX read of the same memory kind.
  const nixlCeilings: Array<[string, string, string]> = [
    [LABELS.nixlPool, LABELS.bareUcxPool, 'pool memory: against the bare UCX read of pool memory'],
    [LABELS.nixlNode, LABELS.bareUcxNode, 'Node memory: against the bare UCX read of Node memory'],
  ];
  for (const [p, ceiling, which] of nixlCeilings) {
    if (!f.has(p)) continue;
    out.push(...throughputRatio(f, p, ceiling, atLeast(0.8), (s) => `nixl GPU object >= 80% of the bare UCX read at ${s} (${which})`));
  }

  // 5. A CPU tensor between two actors at >= 50% of memcpy by a path the user gets by default:
  // any path whose tensor is ordinary memory (a method's result), not one allocated from a
  // transport's registered pool on purpose (issue 12: "only when the user allocates from the pool").
  {
    const target = 'CPU tensor between two actors >= 50% of memcpy at 256 MiB by a default path (any path whose tensor is in ordinary memory, not allocated from a transport pool)';
    const memcpy = f.at(LABELS.memcpy, MEMCPY_SIZE);
    const defaults = DEFAULT_MEMORY_PATHS.map((p) => f.at(p, MEMCPY_SIZE)).filter((m): m is Measurement => !!m).sort((a, b) => b.gbps - a.gbps);
    if (!memcpy || defaults.length === 0) out.push(notMeasured(target, '256 MiB not in this run (BENCH_SIZES)'));
    else {
      const best = defaults[0]!;
      const q = best.gbps / memcpy.gbps;
      const store = f.at(LABELS.objectStore, MEMCPY_SIZE);
      const storeNote = store && store !== best ? `; the object store ${gb(store)} = ${pct(store.gbps / memcpy.gbps)}` : '';
      const pool = f.at(LABELS.nixlPool, MEMCPY_SIZE);
      const poolNote = pool ? `; ${LABELS.nixlPool} (opt-in) ${gb(pool)} = ${pct(pool.gbps / memcpy.gbps)}` : '';
      out.push({ target, value: `${best.path} ${gb(best)} vs memcpy ${gb(memcpy)} = ${pct(q)}${storeNote}${poolNote}`, met: q >= 0.5 });
    }
  }

  // 6. The object store at twice a bare socket.
  out.push(...throughputRatio(f, LABELS.objectStore, LABELS.socket, atLeast(2, 'times'), (s) => `object store >= 2x a bare socket at ${s}`));
  return out;
}
