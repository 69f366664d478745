/**
 * A consumer's opened allocations of other processes (cuIpcOpenMemHandle is slow, and a
 * producer's caching allocator serves many tensors from one allocation, so one open serves every
 * later read of it). An opened allocation keeps the producer's memory alive even after the
 * producer frees it, so it stays open only while useful:
 * - while a registration it was read for is live, and `idleMs` after the last one was released
 *   (the producer's caching allocator hands the same memory to its next tensors, which are then
 *   read without opening it again; after that, `sweep` closes it: the producer may give the
 *   memory back to the driver);
 * - within a bound: beyond `capacity` the least recently used allocation that no read uses is closed;
 * - while its producer runs (a dead producer's allocations are closed at once, or as soon as the
 *   reads using them end).
 */
import { closeIpcMemHandle, openIpcMemHandle } from '@tensorwire/cuda/internal';
import type { TableSlot } from './registration-table';

/** An opened allocation; `base` is its address in this process, on `device`. */
export interface OpenedAllocation {
  readonly producer: string;
  readonly device: number;
  readonly base: bigint;
}

interface Entry extends OpenedAllocation {
  readonly key: string;
  /** The registrations it was read for (by slot and token), until they are seen released. */
  readonly registrations: Map<string, TableSlot>;
  /** Reads using it now. */
  pins: number;
  /** Dropped from the cache while in use: close when the last read ends. */
  doomed: boolean;
  /** When a sweep first found none of its registrations live (undefined while one is). */
  idleSince: number | undefined;
}

/** Counters, for tests and diagnostics. */
export interface HandleCacheStats {
  /** Allocations open now. */
  open: number;
  opens: number;
  hits: number;
  /** Closed to stay within the bound. */
  evictions: number;
  /** Closed because every registration they were read for was released. */
  released: number;
  closes: number;
}

export class HandleCache {
  private readonly entries = new Map<string, Entry>(); // oldest use first
  private readonly doomed = new Set<Entry>();
  private readonly counts = { opens: 0, hits: 0, evictions: 0, released: 0, closes: 0 };

  constructor(
    private readonly capacity: number,
    private readonly idleMs: number,
  ) {}

  /**
   * The allocation named by `handle` (base64) of `producer`, opened on `device` (the device it
   * lies on, in this process's numbering), for a read of registration `slot`; pinned until
   * `unpin`. Throws what the driver throws.
   */
  pin(producer: string, handle: string, device: number, slot: TableSlot): OpenedAllocation {
    const key = `${producer}/${device}/${handle}`;
    let e = this.entries.get(key);
    if (e) {
      this.counts.hits++;
      this.entries.delete(key); // most recently used: last
    } else {
      const base = openIpcMemHandle(device, Buffer.from(handle, 'base64'));
      this.counts.opens++;
      e = { key, producer, device, base, registrations: new Map(), pins: 0, doomed: false, idleSince: undefined };
    }
    e.registrations.set(`${slot.slot}:${slot.token}`, slot);
    e.idleSince = undefined;
    this.entries.set(key, e);
    e.pins++;
    this.trim();
    return e;
  }

  /** A read no longer uses `a`. */
  unpin(a: OpenedAllocation): void {
    const e = a as Entry;
    e.pins--;
    if (e.pins > 0) return;
    if (e.doomed) this.close(e);
    else this.trim();
  }

  /**
   * Closes the allocations no read uses whose registrations were all released at least `idleMs`
   * ago (`live` says whether a registration of a producer still is; undefined: cannot tell, keep it).
   */
  sweep(live: (producer: string, slot: TableSlot) => boolean | undefined, now = Date.now()): void {
    for (const e of [...this.entries.values()]) {
      if (e.pins > 0) continue;
      for (const [k, slot] of e.registrations) if (live(e.producer, slot) === false) e.registrations.delete(k);
      if (e.registrations.size > 0) continue;
      e.idleSince ??= now;
      if (now - e.idleSince < this.idleMs) continue;
      this.entries.delete(e.key);
      this.counts.released++;
      this.close(e);
    }
  }

  /** Closes `producer`'s allocations (it died): now, or when the reads using them end. */
  dropProducer(producer: string): void {
    for (const e of [...this.entries.values()]) if (e.producer === producer) this.drop(e);
  }

  /** Closes every allocation (endpoint close): now, or when the reads using them end. */
  dropAll(): void {
    for (const e of [...this.entries.values()]) this.drop(e);
  }

  /** Producers with allocations open here (kept or in use). */
  producers(): Set<string> {
    const out = new Set<string>();
    for (const e of this.entries.values()) out.add(e.producer);
    for (const e of this.doomed) out.add(e.producer);
    return out;
  }

  stats(): HandleCacheStats {
    return { open: this.entries.size + this.doomed.size, ...this.counts };
  }

  private drop(e: Entry): void {
    this.entries.delete(e.key);
    if (e.pins > 0) {
      e.doomed = true;
      this.doomed.add(e);
    } else {
      this.close(e);
    }
  }

  private trim(): void {
    if (this.entries.size <= this.capacity) return;
    for (const e of this.entries.values()) {
      if (this.entries.size <= this.capacity) return;
      if (e.pins > 0) continue; // in use: the bound waits for it
      this.entries.delete(e.key);
      this.counts.evictions++;
      this.close(e);
    }
  }

  private close(e: Entry): void {
    this.doomed.delete(e);
    this.counts.closes++;
    try {
      closeIpcMemHandle(e.device, e.base);
    } catch {
      // a mapping the driver no longer knows: nothing left to close
    }
  }
}
