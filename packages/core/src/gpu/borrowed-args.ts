/**
 * GPU-object arguments are lent to the call that receives them, and so are the CPU tensors of
 * arguments read from the shared-memory object store (gpu/placed-value.ts: 64 KiB and up, in
 * values of 1 MiB and up placed by a producer on the driver's host). When the call ends (its
 * result written), the tensors it received are given back: CPU memory to the receive
 * pool (the next transfer reads into it: see receive-pool.ts), device memory to its allocator.
 * A method that keeps a received tensor beyond its call says so with {@link keep} (or the
 * method option `keepArgs`); tensors the call returns as a GPU object, or stores with
 * `put(..., { tensorTransport })`, are kept without asking.
 *
 * Why lend instead of give: a fresh receive buffer per transfer costs more than the transfer
 * (allocation, first-touch faults and a full GC per large buffer). Ray's workers face the same
 * trade with plasma, whose objects are read-only views owned by the store.
 */
import { extractTensors } from '../objects/codec';
import { releaseWithReason, Tensor } from '../tensor/tensor';
import type { ReceivePool } from './receive-pool';

/** Tensors and memory (ArrayBuffers, device blocks) that calls must not give back. */
const kept = new WeakSet<object>();

export const GIVEN_BACK_WHY =
  'this tensor was received as a GPU-object argument (or in a value from the shared-memory object store) of a call ' +
  'that has ended, and its memory went back to be ' +
  'reused. Fix: call keep(tensor) inside the method (or declare @method({ keepArgs: true })) to keep received ' +
  'tensors after the call, or keep a copy (tensor.clone())';

/** The memory a tensor and its views share (undefined once released). */
function memoryOf(t: Tensor): object | undefined {
  if (t.released) return undefined;
  if (t.device === 'cpu') return t.data.buffer;
  return t.deviceBuffer;
}

/** Mark `tensors` (and every view of their memory) as kept by whoever holds them. */
export function markKept(tensors: Iterable<Tensor>): void {
  for (const t of tensors) {
    kept.add(t);
    const m = memoryOf(t);
    if (m) kept.add(m);
  }
}

export function isKept(t: Tensor): boolean {
  if (kept.has(t)) return true;
  const m = memoryOf(t);
  return m !== undefined && kept.has(m);
}

/**
 * Keep the tensors in `value` (a Tensor, or any value holding tensors) after the call that
 * received them as GPU-object arguments ends. Without it they are given back when the call
 * ends and throw a RuntimeStateError if used later. Returns `value`. Harmless on other tensors.
 *
 * @example
 * ```ts
 * @actor()
 * class Trainer {
 *   private weights?: Tensor;
 *   load(w: Tensor): void {
 *     this.weights = keep(w); // received from another actor's GPU object: kept past this call
 *   }
 * }
 * ```
 */
export function keep<T>(value: T): T {
  markKept(value instanceof Tensor ? [value] : extractTensors(value).tensors);
  return value;
}

/**
 * Give back the received tensors that nobody kept: pooled CPU memory returns to `pool` (its
 * ArrayBuffer detached, so stray views read as empty), device memory to its allocator, and each
 * tensor then throws {@link GIVEN_BACK_WHY} when used. Returns how many were given back.
 */
export function giveBackReceived(tensors: readonly Tensor[], pool: ReceivePool): number {
  let n = 0;
  for (const t of tensors) {
    if (t.released || isKept(t)) continue;
    if (t.device === 'cpu') pool.giveBack(t.data);
    releaseWithReason(t, GIVEN_BACK_WHY);
    n++;
  }
  return n;
}
