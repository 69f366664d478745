/** Small statistics helpers for benchmark samples (times in nanoseconds as numbers). */
import { fixedWarmup, warmUp, type WarmupPolicy, type WarmupReport } from './warmup';

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/**
 * Time `fn` `reps` times after a warm-up (a count of untimed runs, or a {@link WarmupPolicy});
 * returns the samples in ns.
 */
export async function sample(fn: () => Promise<unknown> | unknown, reps: number, warmup: number | WarmupPolicy = Math.min(3, reps)): Promise<number[]> {
  await warmUp([fn], typeof warmup === 'number' ? fixedWarmup(warmup) : warmup);
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t0));
  }
  return out;
}

/** Samples of interleaved runs, and what their warm-up did. */
export interface Interleaved {
  /** ns, one array per run */
  samples: number[][];
  warmup: WarmupReport;
}

/**
 * Times each of `runs` `reps` times, the runs taking turns rep by rep after a warm-up in which
 * they take turns too (by default 3 untimed rounds; the transfer paths pass
 * {@link warmupFor}'s policy, which warms up until steady), so drift of a noisy machine (GC,
 * other load) falls on all of them alike; each round starts with the next run in turn.
 */
export async function sampleInterleaved(
  runs: ReadonlyArray<() => Promise<unknown>>,
  reps: number,
  warmup: WarmupPolicy = fixedWarmup(Math.min(3, reps)),
): Promise<Interleaved> {
  const report = await warmUp(runs, warmup);
  const samples = runs.map((): number[] => []);
  for (let r = 0; r < reps; r++) {
    // Each round starts with another run: the first of a round is measured slower on a busy
    // machine (its processes were idle longest), and that must not fall on one run only.
    for (let k = 0; k < runs.length; k++) {
      const i = (r + k) % runs.length;
      const t0 = process.hrtime.bigint();
      await runs[i]!();
      samples[i]!.push(Number(process.hrtime.bigint() - t0));
    }
  }
  return { samples, warmup: report };
}

/** Repetitions for a transfer of `bytes`: many for small, few for large. */
export function repsFor(bytes: number): number {
  if (bytes <= 1 << 10) return 200;
  if (bytes <= 1 << 20) return 50;
  if (bytes <= 64 << 20) return 7;
  return 5;
}

export const SIZES = [1 << 10, 1 << 20, 64 << 20, 256 << 20] as const;

export function sizeLabel(bytes: number): string {
  if (bytes >= 1 << 30 && bytes % (1 << 30) === 0) return `${bytes / (1 << 30)} GiB`;
  if (bytes >= 1 << 20) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1 << 10) return `${bytes / (1 << 10)} KiB`;
  return `${bytes} B`;
}

/** One measured path at one size. */
export interface Measurement {
  /** e.g. 'object-store', 'gloo GPU object', 'bare gloo' */
  path: string;
  bytes: number;
  medianUs: number;
  p90Us: number;
  /** bytes / median time, in GB/s (1e9 bytes per second) */
  gbps: number;
  reps: number;
  /** The untimed reps before (see harness/warmup.ts), where the run reports them. */
  warmup?: WarmupReport;
}

export function measurement(path: string, bytes: number, samplesNs: readonly number[], warmup?: WarmupReport): Measurement {
  const med = median(samplesNs);
  return {
    path,
    bytes,
    medianUs: med / 1000,
    p90Us: percentile(samplesNs, 90) / 1000,
    gbps: bytes / med,
    reps: samplesNs.length,
    ...(warmup ? { warmup } : {}),
  };
}
