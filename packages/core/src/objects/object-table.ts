/**
 * The driver's table of every object: state, owner, GPU-object metadata, references.
 * Values themselves live in the ObjectStore; GPU objects' tensors live in their producer.
 */
import type { WireError } from '../errors/wire-error';
import type { EncodedValue } from './encoded-value';
import type { GpuObjectInfo } from '../rpc/protocol';

export type ObjectState = 'pending' | 'ready' | 'failed' | 'freed';

export interface ObjectEntry {
  readonly id: string;
  state: ObjectState;
  error?: WireError;
  /** system failure (e.g. transfer) rather than user code: rethrown as is, not as TaskError */
  errorIsSystem?: boolean;
  /** task that produces it: actor name and method, for TaskError messages */
  producer?: { actorId: string; actorName: string; method: string };
  gpu?: GpuObjectInfo;
  /** small GPU objects: a copy of the tensors made with the object (see inlineGpuObjectBytes) */
  inlineTensors?: EncodedValue;
  /** live ObjectRefs in the driver + borrowed refs in actors + uses by queued calls */
  refs: number;
  /**
   * One-sided reads in flight, per reader (an actor id, or 'driver'): the producer keeps the
   * tensors until they finish. Kept per reader so that a reader's death settles its count.
   */
  readonly reads: Map<string, number>;
  /** refs found inside the stored value: pinned while this object lives (nested refs) */
  contains?: string[];
  /** actors that received a copy of the GPU object (for the intra-actor warning) */
  sentTo: Set<string>;
  warnedMutable?: boolean;
  /** free requested while reads were in flight */
  freeDeferred?: boolean;
  waiters: Array<() => void>;
}

export class ObjectTable {
  private readonly entries = new Map<string, ObjectEntry>();

  /** The entry for `id`, created pending if unknown. */
  ensure(id: string): ObjectEntry {
    let e = this.entries.get(id);
    if (!e) {
      e = { id, state: 'pending', refs: 0, reads: new Map(), sentTo: new Set(), waiters: [] };
      this.entries.set(id, e);
    }
    return e;
  }

  /** Whether `id` has an entry (never creates one). */
  has(id: string): boolean {
    return this.entries.has(id);
  }

  get(id: string): ObjectEntry | undefined {
    return this.entries.get(id);
  }

  delete(id: string): void {
    this.entries.delete(id);
  }

  values(): IterableIterator<ObjectEntry> {
    return this.entries.values();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Settle an entry and wake its waiters. */
  settle(e: ObjectEntry, state: 'ready' | 'failed' | 'freed'): void {
    e.state = state;
    const w = e.waiters;
    e.waiters = [];
    w.forEach((f) => f());
  }

  /** Resolves when the entry is no longer pending. */
  whenSettled(e: ObjectEntry): Promise<void> {
    if (e.state !== 'pending') return Promise.resolve();
    return new Promise((resolve) => e.waiters.push(resolve));
  }
}

/** One-sided reads of `e` in flight, over all readers. */
export function pendingReads(e: ObjectEntry): number {
  let n = 0;
  for (const c of e.reads.values()) n += c;
  return n;
}
