/**
 * Receive memory for GPU objects that arrive as call arguments, reused from call to call.
 *
 * Why: a large receive buffer made fresh per transfer costs more than the transfer. Each new
 * ArrayBuffer of 64 MiB tells V8 that external memory grew, which sets off a full garbage
 * collection (~10 ms per transfer measured in a receiving actor, against a 3.7 ms one-sided
 * read), and fresh pages fault in on first touch. So the memory a call received into comes
 * back here when the call ends (see borrowed-args.ts) and the next transfer of a similar size
 * reads into it: no allocation, no GC, pages already mapped.
 *
 * A buffer comes back as the same ArrayBuffer object, not a new one: V8 counts every new
 * ArrayBuffer's memory as fresh external memory and answers 64 MiB of it with a full GC, even
 * when the memory is moved from a detached buffer (measured: one mark-compact per transfer).
 * So the Tensor the call saw is released (it throws when used), but a raw TypedArray taken
 * from it (`tensor.data`) and kept past the call would see the next transfer's bytes: the
 * documented rule is keep(tensor) for anything kept (borrowed-args.ts).
 *
 * Buffers are cached per source (the heap, or a transport endpoint's registered pool: memory
 * a one-sided transport reads into without a bounce) and per size class (steps of 1/8 of a
 * power of two, so a tensor of a slightly different size still reuses a buffer), up to a byte
 * bound; beyond it, returned buffers are left to the garbage collector.
 */

import * as os from 'node:os';

/** Allocations below this many bytes are not pooled: V8 handles small buffers well. */
export const POOL_MIN_BYTES = 64 * 1024;

/**
 * Default bound of cached bytes per actor: TENSORWIRE_RECEIVE_POOL_BYTES, else 1 GiB or 1/16
 * of the machine's memory, whichever is less (many actors on one host each have a pool).
 */
export function defaultPoolBytes(env: NodeJS.ProcessEnv = process.env): number {
  if (env.TENSORWIRE_RECEIVE_POOL_BYTES !== undefined && env.TENSORWIRE_RECEIVE_POOL_BYTES !== '') {
    const v = Number(env.TENSORWIRE_RECEIVE_POOL_BYTES);
    if (Number.isFinite(v) && v >= 0) return v;
  }
  return Math.min(2 ** 30, Math.floor(os.totalmem() / 16));
}

/** The size class holding `nbytes`: rounded up to a multiple of 1/8 of its power of two. */
export function sizeClass(nbytes: number): number {
  if (nbytes <= POOL_MIN_BYTES) return nbytes;
  const pow = 2 ** Math.floor(Math.log2(nbytes));
  const step = pow / 8;
  return Math.ceil(nbytes / step) * step;
}

/** Where pooled memory comes from: the heap, or an endpoint's registered-memory allocator. */
export interface PoolSource {
  allocate?(nbytes: number): Uint8Array;
}

const HEAP: PoolSource = {};

export interface ReceivePoolStats {
  /** Bytes cached for reuse (not lent out). */
  cachedBytes: number;
  /** Takes served from the cache, and those that allocated. */
  hits: number;
  misses: number;
}

interface Origin {
  source: PoolSource;
  capacity: number;
}

export class ReceivePool {
  private readonly free = new Map<PoolSource, Map<number, ArrayBuffer[]>>();
  /** Buffers lent out by this pool, with where they go back. */
  private readonly lent = new WeakMap<ArrayBuffer, Origin>();
  private cached = 0;
  private hits = 0;
  private misses = 0;

  constructor(private readonly maxBytes = defaultPoolBytes()) {}

  /**
   * `nbytes` of receive memory (a view of exactly that length) from `source` (the heap when
   * undefined or when it has no allocator). Its contents are whatever was there: a receive
   * overwrites all of it.
   */
  take(nbytes: number, source: PoolSource = HEAP): Uint8Array {
    const src = source.allocate ? source : HEAP;
    if (nbytes < POOL_MIN_BYTES || this.maxBytes === 0) return this.allocate(src, nbytes);
    const capacity = sizeClass(nbytes);
    const list = this.free.get(src)?.get(capacity);
    let ab = list?.pop();
    if (ab) {
      this.cached -= capacity;
      this.hits++;
    } else {
      this.misses++;
      const view = this.allocate(src, capacity);
      ab = view.buffer as ArrayBuffer;
      // A source may hand out a view onto a larger buffer: then it is not ours to pool.
      if (view.byteOffset !== 0 || ab.byteLength !== capacity) return view.subarray(0, nbytes);
    }
    this.lent.set(ab, { source: src, capacity });
    return new Uint8Array(ab, 0, nbytes);
  }

  /** True when `view` is memory this pool lent (and has not had back). */
  owns(view: ArrayBufferView): boolean {
    return this.lent.has(view.buffer as ArrayBuffer);
  }

  /**
   * Take back the memory under `view` (lent by `take`), cached for the next `take`. False when
   * the memory was not lent by this pool (nothing is done then).
   */
  giveBack(view: ArrayBufferView): boolean {
    const ab = view.buffer as ArrayBuffer;
    const origin = this.lent.get(ab);
    if (!origin) return false;
    this.lent.delete(ab);
    if (this.cached + origin.capacity > this.maxBytes) return true; // over the bound: the GC frees it
    let bySize = this.free.get(origin.source);
    if (!bySize) this.free.set(origin.source, (bySize = new Map()));
    let list = bySize.get(origin.capacity);
    if (!list) bySize.set(origin.capacity, (list = []));
    list.push(ab);
    this.cached += origin.capacity;
    return true;
  }

  stats(): ReceivePoolStats {
    return { cachedBytes: this.cached, hits: this.hits, misses: this.misses };
  }

  private allocate(source: PoolSource, nbytes: number): Uint8Array {
    if (source.allocate) return source.allocate(nbytes);
    // Not zero-filled: the transfer overwrites every byte (Tensor.empty would memset first).
    const b = Buffer.allocUnsafeSlow(nbytes);
    return new Uint8Array(b.buffer, b.byteOffset, nbytes);
  }
}
