/**
 * The part of the driver's record of an object that the GPU-object manager reads and writes:
 * where the tensors are, who is reading them, who received a copy. The driver's ObjectEntry
 * (driver/object-table.ts) extends it with everything else (waiters, errors, producer task).
 */
import type { EncodedValue } from '../objects/encoded-value';
import type { GpuObjectInfo } from './gpu-object';

export interface GpuEntry {
  readonly id: string;
  state: 'pending' | 'ready' | 'failed' | 'freed';
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
  /** actors that received a copy of the GPU object (for the back-to-the-producer note) */
  sentTo: Set<string>;
  /** the back-to-the-producer note was logged (once per object) */
  mutableNoted?: boolean;
  /** free requested while reads were in flight */
  freeDeferred?: boolean;
  /** the producer is registering the object for a one-sided read (small objects are stored unregistered) */
  registering?: Promise<void>;
}

/** One-sided reads of `e` in flight, over all readers. */
export function pendingReads(e: GpuEntry): number {
  let n = 0;
  for (const c of e.reads.values()) n += c;
  return n;
}
