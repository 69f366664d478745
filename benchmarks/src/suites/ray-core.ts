/**
 * Ray's core microbenchmark shapes (`ray microbenchmark`, python/ray/_private/ray_perf.py),
 * measured as Ray measures them, with Ray's published figures beside ours for context:
 * - 1:1 actor calls sync: `await get(a.smallValue.remote())`, one call at a time;
 * - 1:1 actor calls async: 1000 calls to one actor in flight, then `get` of all;
 * - n:n actor calls async: n caller actors each call n receiver actors (1000 calls per caller
 *   per round, round robin, all in flight), n = the number of CPUs here;
 * - single client put gigabytes: `put` of one large tensor in the driver (Ray: an 800 MiB numpy
 *   array), then `free`;
 * - single client get calls: `get` in the driver of a small object made by `put(0)`.
 * Timing is Ray's `timeit`: a warm-up (here until V8 has optimized the call code: at least 3000
 * calls and 2 s, harness/warmup.ts), then 4 windows of 2 s, each counting completed runs; the
 * result is the mean and standard deviation of the 4 rates.
 */
import * as os from 'node:os';
import { free, get, put, spawn, Tensor, type ActorHandle } from '@tensorwire/core';
import { describeWarmup, isQuick, warmUp, warmupForCalls, type WarmupPolicy, type WarmupReport } from '../harness/warmup';
import { BenchActor } from './bench-actor';
import { CallerActor } from './caller-actor';

/**
 * Ray's published figures for these shapes (as quoted by issue 12): Ray's release-test machine,
 * not this one; printed for context, not as a target.
 */
export const RAY_RELEASE_FIGURES = {
  '1:1 actor calls sync': 2012,
  '1:1 actor calls async': 8664,
  'n:n actor calls async': 27_376,
  'single client put gigabytes': 19.9,
  'single client get calls': 10_620,
} as const;

export type RayShape = keyof typeof RAY_RELEASE_FIGURES;

export interface RateResult {
  /** Ray's name of the shape. */
  shape: RayShape;
  unit: 'calls/s' | 'GB/s';
  /** Mean and standard deviation over the timed windows. */
  mean: number;
  sd: number;
  windows: number;
  /** Ray's figure on its release machine (not ours). */
  ray: number;
  /** What our run did, e.g. "2 callers x 2 receivers". */
  detail: string;
  warmup: WarmupReport;
}

/** Ray's timeit: `windows` windows of `windowMs`, each counting runs of `fn`; rate = runs x multiplier / s. */
async function timeit(fn: () => Promise<unknown>, multiplier: number, policy: WarmupPolicy): Promise<{ mean: number; sd: number; windows: number; warmup: WarmupReport }> {
  const warmup = await warmUp([fn], policy);
  const windowMs = isQuick() ? 200 : 2000;
  const windows = 4;
  // Ray checks the clock every tenth of the warm-up's rate: a window ends on a whole step.
  const step = Math.floor(warmup.reps / (warmup.ms / 1000) / 10) + 1;
  const rates: number[] = [];
  for (let w = 0; w < windows; w++) {
    const t0 = performance.now();
    let count = 0;
    while (performance.now() - t0 < windowMs) {
      for (let i = 0; i < step; i++) await fn();
      count += step;
    }
    rates.push((multiplier * count) / ((performance.now() - t0) / 1000));
  }
  const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
  const sd = Math.sqrt(rates.reduce((a, b) => a + (b - mean) ** 2, 0) / rates.length);
  return { mean, sd, windows, warmup };
}

/** Bytes `put` moves per call: BENCH_PUT_BYTES, default Ray's array (100 Mi int64 = 800 MiB). */
export function putBytes(): number {
  const n = Number(process.env.BENCH_PUT_BYTES ?? 100 * 1024 * 1024 * 8);
  if (!Number.isInteger(n) || n < 8 || n % 8) throw new Error(`BENCH_PUT_BYTES must be a whole number of int64s (a multiple of 8), got ${process.env.BENCH_PUT_BYTES}`);
  return n;
}

/**
 * Every shape, in Ray's order; needs a running runtime (init). Actors it spawns are killed at
 * shutdown. `memcpyGbps` (the run's best memcpy) tells a put that copies from one that keeps a
 * reference: a put faster than memcpy did not copy the bytes, and its row says so.
 */
export async function rayCoreShapes(say: (line: string) => void, memcpyGbps?: number): Promise<RateResult[]> {
  const out: RateResult[] = [];
  const record = async (shape: RayShape, unit: RateResult['unit'], detail: string, fn: () => Promise<unknown>, multiplier: number, policy: WarmupPolicy): Promise<void> => {
    const r = await timeit(fn, multiplier, policy);
    const result: RateResult = { shape, unit, mean: r.mean, sd: r.sd, windows: r.windows, ray: RAY_RELEASE_FIGURES[shape], detail, warmup: r.warmup };
    say(`  ${shape.padEnd(28)} ${formatRate(result.mean, unit)} +- ${formatRate(result.sd, unit)}  (Ray's release machine: ${formatRate(result.ray, unit)}; ${describeWarmup(r.warmup)})`);
    out.push(result);
  };

  const a = await spawn(BenchActor, { name: 'ray-shapes-1to1' });
  await record('1:1 actor calls sync', 'calls/s', 'one call at a time', () => get(a.smallValue.remote()), 1, warmupForCalls(1));
  const batch = 1000;
  await record('1:1 actor calls async', 'calls/s', `${batch} calls in flight`, () => get(Array.from({ length: batch }, () => a.smallValue.remote())), batch, warmupForCalls(batch));

  const n = os.cpus().length;
  const receivers: ActorHandle<BenchActor>[] = [];
  const callers: ActorHandle<CallerActor>[] = [];
  for (let i = 0; i < n; i++) receivers.push(await spawn(BenchActor, { name: `ray-shapes-receiver-${i}` }));
  for (let i = 0; i < n; i++) callers.push(await spawn(CallerActor, { name: `ray-shapes-caller-${i}` }));
  await get(callers.map((c) => c.setReceivers.remote(receivers)));
  await record(
    'n:n actor calls async', 'calls/s', `${n} caller actors x ${n} receiver actors, ${batch} calls per caller in flight`,
    () => get(callers.map((c) => c.batch.remote(batch))), n * batch, warmupForCalls(n * batch),
  );

  const bytes = putBytes();
  const big = Tensor.zeros([bytes / 8], { dtype: 'int64' });
  // No steadiness windows: a put that copies 800 MiB takes ~0.1 s, and 2 s of puts warm its code.
  const putPolicy: WarmupPolicy = { ...warmupForCalls(1), minReps: 3, window: 0 };
  await record('single client put gigabytes', 'GB/s', `put of a ${(bytes / 2 ** 20).toFixed(0)} MiB int64 tensor, then free`, async () => {
    const ref = put(big);
    await free(ref);
  }, bytes / 1e9, putPolicy);
  const putResult = out[out.length - 1]!;
  if (memcpyGbps !== undefined && putResult.mean > memcpyGbps) {
    putResult.detail += `; faster than memcpy here (${memcpyGbps.toFixed(1)} GB/s), so put cannot have copied the bytes (it should: a snapshot, as Ray's put)`;
  }

  const small = put(0);
  await record('single client get calls', 'calls/s', 'get of put(0)', () => get(small), 1, warmupForCalls(1));
  await free(small);
  return out;
}

export function formatRate(x: number, unit: RateResult['unit']): string {
  return unit === 'GB/s' ? `${x.toFixed(x >= 100 ? 0 : 2)} GB/s` : `${Math.round(x).toLocaleString('en-US')}/s`;
}

/** The Markdown table of the shapes: ours beside Ray's, Ray's labelled as its machine's. */
export function rayShapesTable(rs: readonly RateResult[]): string {
  return [
    `| shape | ours (this machine) | Ray's published figure (Ray's release machine, not ours) | what ours did |`,
    '|---|---|---|---|',
    ...rs.map((r) => `| ${r.shape} | ${formatRate(r.mean, r.unit)} +- ${formatRate(r.sd, r.unit)} | ${formatRate(r.ray, r.unit)} | ${r.detail} |`),
  ].join('\n');
}
