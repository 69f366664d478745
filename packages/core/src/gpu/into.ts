/**
 * `get(ref, { into })`: an object's tensors received straight into tensors the caller holds
 * (the weight-sync pattern: new weights land in the tensors a model already uses). Here: the
 * tensors of an `into` value, the check that they fit the object (count, dtype, shape) made
 * before any transfer starts, and the copy for the paths that bring a copy anyway (the object
 * store, the inline copy, the producer's own tensors).
 */
import { IntoMismatchError } from '../errors/errors';
import { extractTensors } from '../objects/codec';
import { backendFor, parseDevice, type DeviceBuffer } from '../tensor/device';
import type { Tensor } from '../tensor/tensor';
import type { TensorMeta } from './gpu-object';

/** What the driver needs to check an `into` against an object: each tensor's dtype and shape. */
export interface IntoMeta {
  readonly dtype: TensorMeta['dtype'];
  readonly shape: readonly number[];
}

/** The tensors of an `into` value (a tensor, a list, or a value shaped like the object), in order. */
export function intoTensors(into: unknown): Tensor[] {
  return extractTensors(into).tensors;
}

export function intoMetas(into: readonly Tensor[]): IntoMeta[] {
  return into.map((t) => ({ dtype: t.dtype, shape: [...t.shape] }));
}

const shapeText = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** The first difference between an object's tensors and the `into` tensors, or undefined. */
export function intoMismatch(metas: readonly IntoMeta[], into: readonly IntoMeta[]): string | undefined {
  if (metas.length !== into.length) return `the object has ${metas.length} tensor(s), into has ${into.length}`;
  for (let i = 0; i < metas.length; i++) {
    const m = metas[i]!;
    const t = into[i]!;
    if (m.dtype !== t.dtype) return `tensor ${i}: dtype ${m.dtype} in the object, ${t.dtype} in into`;
    if (m.shape.length !== t.shape.length || m.shape.some((n, k) => n !== t.shape[k])) {
      return `tensor ${i}: shape ${shapeText(m.shape)} in the object, ${shapeText(t.shape)} in into`;
    }
  }
  return undefined;
}

/** Throws IntoMismatchError when `into` does not fit object `objectId`'s tensors. */
export function checkInto(objectId: string, metas: readonly IntoMeta[], into: readonly IntoMeta[]): void {
  const why = intoMismatch(metas, into);
  if (!why) return;
  throw new IntoMismatchError(
    `get(ref, { into }): the tensors given do not fit object ${objectId}: ${why}. ` +
      'Fix: pass tensors of the same count, dtypes and shapes, in the order the object holds them (or get without into)',
    why,
  );
}

/** Copy each of `src` into the matching tensor of `into` (any devices); no allocation between CPU tensors. */
export async function copyInto(src: readonly Tensor[], into: readonly Tensor[]): Promise<void> {
  await Promise.all(src.map((s, i) => copyOne(s, into[i]!)));
}

async function copyOne(src: Tensor, dst: Tensor): Promise<void> {
  if (src === dst) return;
  const srcBuf = src.deviceBuffer;
  const dstBuf = dst.deviceBuffer;
  if (!srcBuf && !dstBuf) {
    dst.bytes().set(src.bytes());
    return;
  }
  if (!srcBuf) {
    const b = backendFor(parseDevice(dst.device));
    if (b.copyFromHostAsync) await b.copyFromHostAsync(dstBuf!, src.bytes());
    else b.copyFromHost(dstBuf!, src.bytes());
    return;
  }
  const b = backendFor(parseDevice(src.device));
  if (!dstBuf) {
    if (b.copyToHostAsync) await b.copyToHostAsync(srcBuf, dst.bytes());
    else b.copyToHost(srcBuf, dst.bytes());
    return;
  }
  await copyDeviceToDevice(b, srcBuf, dstBuf);
}

async function copyDeviceToDevice(b: ReturnType<typeof backendFor>, src: DeviceBuffer, dst: DeviceBuffer): Promise<void> {
  if (b.copyDeviceToDeviceAsync) return b.copyDeviceToDeviceAsync(src, dst);
  if (b.copyDeviceToDevice) return b.copyDeviceToDevice(src, dst);
  const host = new Uint8Array(src.nbytes);
  b.copyToHost(src, host);
  b.copyFromHost(dst, host);
}
