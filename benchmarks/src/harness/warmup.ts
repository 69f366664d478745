/**
 * Warm-up until steady state, before anything is timed.
 *
 * Why: V8 runs a function in its interpreter and baseline tiers until it has been called often
 * enough to be optimized. On the project's 2-core VM an actor call's driver CPU cost falls from
 * ~400 us over the first ~3000 calls to ~50-90 us once the code is optimized (issue 12's
 * measurements), so a warm-up of a few hundred calls times cold code: the empty call measured
 * 196 us after 300 warm-up calls, 75-88 us after 3000. The same holds for the actors' side of
 * every path. Small sizes therefore warm up for at least 3000 reps and 2 s and then until two
 * consecutive windows of reps agree (median within 10%); larger sizes, whose code the small
 * sizes already warmed and whose reps cost milliseconds to seconds, take fewer.
 *
 * `BENCH_QUICK=1` divides every count and duration by 10 (a smoke test of the bench itself,
 * whose figures then measure partly cold code).
 */

export interface WarmupPolicy {
  /** At least this many untimed reps of each run. */
  minReps: number;
  /** And at least this long (ms), all runs together. */
  minMs: number;
  /** Stop here even when not yet steady (ms). */
  maxMs: number;
  /** Check steadiness over windows of this many reps (0: stop at the minimums). */
  window: number;
}

/** What a warm-up did (printed beside the measurement). */
export interface WarmupReport {
  reps: number;
  ms: number;
  /** Two consecutive windows agreed (always true when the policy checks no windows). */
  steady: boolean;
}

/** True when BENCH_QUICK=1: every warm-up, window and duration shortened tenfold. */
export function isQuick(): boolean {
  return process.env.BENCH_QUICK === '1';
}

function scaled(p: WarmupPolicy): WarmupPolicy {
  if (!isQuick()) return p;
  return {
    minReps: Math.max(1, Math.ceil(p.minReps / 10)),
    minMs: p.minMs / 10,
    maxMs: p.maxMs / 10,
    window: p.window ? Math.max(5, Math.ceil(p.window / 10)) : 0,
  };
}

/** Calls V8 needs before an actor call runs optimized code (issue 12's measurements). */
export const OPTIMIZING_CALLS = 3000;

/**
 * The warm-up for transfers of `bytes`: small sizes (<= 64 KiB, the inline path) 3000 reps and
 * 2 s, then until steady (at most 30 s); up to 4 MiB 300 reps and 1 s, then until steady (at
 * most 15 s); larger sizes 2 reps (their code is the 1 MiB path's, warmed before; the reps
 * fault in and size the receive memory).
 */
export function warmupFor(bytes: number): WarmupPolicy {
  if (bytes <= 64 << 10) return scaled({ minReps: OPTIMIZING_CALLS, minMs: 2000, maxMs: 30_000, window: 300 });
  if (bytes <= 4 << 20) return scaled({ minReps: 300, minMs: 1000, maxMs: 15_000, window: 100 });
  return scaled({ minReps: 2, minMs: 0, maxMs: 10_000, window: 0 });
}

/** The warm-up for a call-rate shape whose one run makes `callsPerRun` calls. */
export function warmupForCalls(callsPerRun: number): WarmupPolicy {
  const runs = Math.max(3, Math.ceil(OPTIMIZING_CALLS / callsPerRun));
  return scaled({ minReps: runs, minMs: 2000, maxMs: 20_000, window: Math.max(3, Math.ceil(runs / 10)) });
}

/** Exactly `reps` untimed reps, no minimum time, no steadiness check (the old fixed warm-up). */
export function fixedWarmup(reps: number): WarmupPolicy {
  return { minReps: reps, minMs: 0, maxMs: Number.POSITIVE_INFINITY, window: 0 };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Runs `runs` taking turns rep by rep (as they are timed afterwards) until the policy is met:
 * at least minReps reps of each and minMs in all, and then, when the policy has a window,
 * until the median of the last window of each run is within 10% of the window before; or
 * until maxMs has passed.
 */
export async function warmUp(runs: ReadonlyArray<() => Promise<unknown> | unknown>, policy: WarmupPolicy): Promise<WarmupReport> {
  const t0 = performance.now();
  const recent = runs.map((): number[] => []);
  const previous: Array<number | undefined> = runs.map(() => undefined);
  let reps = 0;
  let steady = policy.window === 0;
  for (;;) {
    const elapsed = performance.now() - t0;
    if (reps >= policy.minReps && elapsed >= policy.minMs && steady) break;
    if (reps >= 1 && elapsed >= policy.maxMs) break;
    for (let i = 0; i < runs.length; i++) {
      const s = performance.now();
      await runs[i]!();
      recent[i]!.push(performance.now() - s);
    }
    reps++;
    if (policy.window && reps % policy.window === 0) {
      let agree = true;
      for (let i = 0; i < runs.length; i++) {
        const m = median(recent[i]!);
        const p = previous[i];
        if (p === undefined || Math.abs(m - p) > 0.1 * p) agree = false;
        previous[i] = m;
        recent[i] = [];
      }
      steady = agree;
    }
  }
  return { reps, ms: performance.now() - t0, steady };
}

/** "warm-up 3300 reps, 2.4 s, steady" for the progress lines. */
export function describeWarmup(w: WarmupReport): string {
  return `warm-up ${w.reps} reps, ${(w.ms / 1000).toFixed(1)} s${w.steady ? '' : ', not steady (time cap)'}`;
}
