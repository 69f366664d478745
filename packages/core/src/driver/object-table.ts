/**
 * The driver's table of every object: state, owner, GPU-object metadata, references.
 * Values themselves live in the ObjectStore; GPU objects' tensors live in their producer.
 */
import type { WireError } from '../errors/wire-error';
import type { GpuEntry } from '../gpu/gpu-entry';

export type ObjectState = GpuEntry['state'];

/** The driver's record of an object: the GPU-object part (GpuEntry) and the rest. */
export interface ObjectEntry extends GpuEntry {
  error?: WireError;
  /** system failure (e.g. transfer) rather than user code: rethrown as is, not as TaskError */
  errorIsSystem?: boolean;
  /** task that produces it: actor name and method, for TaskError messages */
  producer?: { actorId: string; actorName: string; method: string };
  /** refs found inside the stored value: pinned while this object lives (nested refs) */
  contains?: string[];
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
