/**
 * The caching allocator's sizes, after PyTorch's: requests are rounded to size classes, small
 * ones are cut from shared 2 MiB segments, large ones from 20 MiB segments or a segment of their
 * own. Rounding makes blocks of nearly the same size interchangeable, so a freed block serves the
 * next request of its class without a new cuMemAlloc.
 */

/** Every block is a multiple of this (and so aligned to it, segments being 2 MiB aligned). */
export const MIN_BLOCK = 512;
/** Requests up to this size are small: served from the small pool. */
export const SMALL_LIMIT = 1 << 20;
/** Small blocks are cut from segments of this size. */
export const SMALL_SEGMENT = 2 << 20;
/** Large requests below this share segments of LARGE_SEGMENT. */
export const MID_LIMIT = 10 << 20;
export const LARGE_SEGMENT = 20 << 20;
/** Larger requests get a segment of their own, rounded up to this. */
export const ROUND_LARGE = 2 << 20;
/** Size classes per power of two above SMALL_LIMIT: a request is rounded up by at most 1/8. */
export const DIVISIONS = 8;

/** Which pool serves a block: blocks move only within their pool. */
export type Pool = 'small' | 'large';

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/**
 * The size class of a request of `n` bytes (n > 0): multiples of 512 B up to 1 MiB, then
 * DIVISIONS classes per power of two (1 MiB, 1.125 MiB, ..., 2 MiB, 2.25 MiB, ...).
 */
export function roundSize(n: number): number {
  if (n <= SMALL_LIMIT) return roundUp(Math.max(n, 1), MIN_BLOCK);
  const power = 2 ** Math.floor(Math.log2(n));
  return roundUp(n, Math.max(power / DIVISIONS, MIN_BLOCK));
}

export function poolOf(size: number): Pool {
  return size <= SMALL_LIMIT ? 'small' : 'large';
}

/** How much to cuMemAlloc when no cached block of a class fits. */
export function segmentSize(size: number): number {
  if (size <= SMALL_LIMIT) return SMALL_SEGMENT;
  if (size < MID_LIMIT) return LARGE_SEGMENT;
  return roundUp(size, ROUND_LARGE);
}

/** Whether a free block of `blockSize` serving `size` keeps its tail as a block of its own. */
export function shouldSplit(pool: Pool, blockSize: number, size: number): boolean {
  const rest = blockSize - size;
  return pool === 'small' ? rest >= MIN_BLOCK : rest > SMALL_LIMIT;
}
