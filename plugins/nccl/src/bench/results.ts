/** What every path of the NCCL benchmark reports, and the statistics it is computed with. */

/** One path at one size. */
export interface SizeResult {
  /** Bytes per transfer. */
  readonly size: number;
  readonly reps: number;
  /** Median one-way time, microseconds (a ping-pong's round trip / 2; an actor-to-actor call chain). */
  readonly medianUs: number;
  readonly minUs: number;
  /** size / median time, in GB/s (1e9 bytes per second). */
  readonly gbps: number;
}

/** One path: its results, or why it did not run. */
export interface PathReport {
  readonly path: string;
  readonly results: readonly SizeResult[];
  readonly skipped?: string;
  readonly note?: string;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A SizeResult from one-way times in microseconds. */
export function summarize(size: number, oneWayUs: readonly number[]): SizeResult {
  const medianUs = median(oneWayUs);
  return { size, reps: oneWayUs.length, medianUs, minUs: Math.min(...oneWayUs), gbps: size / (medianUs * 1e-6) / 1e9 };
}

/** Reps per size: many at small sizes, few at large ones. */
export function defaultReps(size: number): number {
  if (size <= 64 * 1024) return 200;
  if (size <= 4 << 20) return 50;
  if (size <= 256 << 20) return 10;
  return 5;
}

export const DEFAULT_SIZES: readonly number[] = [1 << 10, 1 << 20, 64 << 20, 256 << 20, 1 << 30];

export function sizeName(bytes: number): string {
  if (bytes >= 1 << 30 && bytes % (1 << 30) === 0) return `${bytes / (1 << 30)} GiB`;
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1 << 10 && bytes % (1 << 10) === 0) return `${bytes / (1 << 10)} KiB`;
  return `${bytes} B`;
}
