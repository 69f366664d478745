/** Small statistics helpers for benchmark samples (times in nanoseconds as numbers). */

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Time `fn` `reps` times after `warmup` untimed runs; returns the samples in ns. */
export async function sample(fn: () => Promise<unknown> | unknown, reps: number, warmup = Math.min(3, reps)): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t0));
  }
  return out;
}

/**
 * Times each of `runs` `reps` times, the runs taking turns rep by rep after up to 3 untimed
 * rounds, so drift of a noisy machine (GC, other load) falls on all of them alike. Returns the
 * samples in ns, one array per run.
 */
export async function sampleInterleaved(runs: ReadonlyArray<() => Promise<unknown>>, reps: number): Promise<number[][]> {
  const samples = runs.map((): number[] => []);
  for (let r = -Math.min(3, reps); r < reps; r++) {
    for (let i = 0; i < runs.length; i++) {
      const t0 = process.hrtime.bigint();
      await runs[i]!();
      if (r >= 0) samples[i]!.push(Number(process.hrtime.bigint() - t0));
    }
  }
  return samples;
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
}

export function measurement(path: string, bytes: number, samplesNs: readonly number[]): Measurement {
  const med = median(samplesNs);
  return {
    path,
    bytes,
    medianUs: med / 1000,
    p90Us: percentile(samplesNs, 90) / 1000,
    gbps: bytes / med,
    reps: samplesNs.length,
  };
}
