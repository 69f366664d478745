/**
 * Reading an object-store value whose bytes a ValuePlacement put in shared memory
 * (objects/value-placement.ts). For a call's arguments the bytes are copied into the actor's
 * receive pool and the large tensors among them are lent to the call like GPU-object arguments
 * (borrowed-args.ts): given back when it ends unless kept, so no fresh allocation (and no GC)
 * happens per transfer. Everywhere else (`get`), into fresh memory the caller owns.
 */
import { extractTensors } from '../objects/codec';
import type { EncodedValue } from '../objects/encoded-value';
import { freshBytes, withAttachments } from '../objects/value-placement';
import type { Tensor } from '../tensor/tensor';
import type { ReceivePool } from './receive-pool';

export interface ReadValue {
  /** The value with its bytes in `attachments`. */
  readonly encoded: EncodedValue;
  /** The CPU tensors of the decoded `value` whose memory came from the pool (to give back after the call). */
  lentTensors(value: unknown): Tensor[];
}

const NONE = (): Tensor[] => [];

export async function readStoreValue(v: EncodedValue, lend?: ReceivePool): Promise<ReadValue> {
  if (!v.placed) return { encoded: v, lentTensors: NONE };
  if (!lend) return { encoded: await withAttachments(v, freshBytes), lentTensors: NONE };
  const encoded = await withAttachments(v, (n) => lend.take(n));
  // Only tensors are given back: a released Tensor throws when used after its call, a raw
  // Buffer or TypedArray cannot. Pool memory under those is simply not returned (the GC frees it).
  return { encoded, lentTensors: (value) => extractTensors(value).tensors.filter((t) => t.device === 'cpu' && lend.owns(t.data)) };
}
