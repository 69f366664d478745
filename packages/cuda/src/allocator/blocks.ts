/**
 * Segments (what cuMemAlloc returned) and the blocks they are cut into, plus the free list of a
 * pool: free blocks ordered by size then address, searched for the best fit.
 */
import { RuntimeStateError } from '@tensorwire/core';
import type { Pool } from './size-classes';

/** One cuMemAlloc'd region. */
export interface Segment {
  readonly base: bigint;
  readonly size: number;
  readonly pool: Pool;
}

/** A piece of a segment: in a tensor, or free (cached) for reuse. Neighbours are linked. */
export interface Block {
  readonly segment: Segment;
  offset: number;
  size: number;
  free: boolean;
  prev: Block | undefined;
  next: Block | undefined;
}

export function addressOf(b: Block): bigint {
  return b.segment.base + BigInt(b.offset);
}

/** True when `b` is a whole segment (so the segment can go back to the driver when it is free). */
export function isWholeSegment(b: Block): boolean {
  return b.prev === undefined && b.next === undefined;
}

function before(a: Block, b: Block): boolean {
  if (a.size !== b.size) return a.size < b.size;
  return addressOf(a) < addressOf(b);
}

/** Free blocks of one pool, sorted by (size, address): best fit is a binary search. */
export class FreeList {
  private readonly blocks: Block[] = [];

  get length(): number {
    return this.blocks.length;
  }

  /** Total bytes of the free blocks. */
  bytes(): number {
    let n = 0;
    for (const b of this.blocks) n += b.size;
    return n;
  }

  insert(b: Block): void {
    this.blocks.splice(this.lowerBound(b), 0, b);
  }

  remove(b: Block): void {
    const i = this.lowerBound(b);
    if (this.blocks[i] !== b) {
      throw new RuntimeStateError('internal error in the CUDA caching allocator: a free block is missing from its free list (a bug: please report it)');
    }
    this.blocks.splice(i, 1);
  }

  /** The smallest free block of at least `size` bytes (lowest address among equals), removed. */
  takeBestFit(size: number): Block | undefined {
    let lo = 0;
    let hi = this.blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.blocks[mid] as Block).size < size) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.blocks.length) return undefined;
    return this.blocks.splice(lo, 1)[0];
  }

  /** The free blocks that are whole segments, removed (what emptyCache gives back). */
  takeWholeSegments(): Block[] {
    const whole = this.blocks.filter(isWholeSegment);
    for (const b of whole) this.remove(b);
    return whole;
  }

  private lowerBound(b: Block): number {
    let lo = 0;
    let hi = this.blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(this.blocks[mid] as Block, b)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
