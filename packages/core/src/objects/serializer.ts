/**
 * The Serializer turns values into {@link EncodedValue}s and back. The default one is the
 * out-of-band codec (tensor and buffer bytes never copied on encode); it is a DI token so a
 * runtime can swap it (e.g. to add compression or a custom class codec).
 */
import 'reflect-metadata';
import { injectable } from 'tsyringe';
import { decodeValue, encodeValue } from './codec';
import type { EncodedValue } from './encoded-value';

/** Hooks to replace special objects (ObjectRef, ActorHandle) by tagged markers and back. */
export interface SerializerHooks {
  replace?(value: unknown): { tag: string; data: unknown } | undefined;
  revive?(tag: string, data: unknown): unknown;
  /** Undefined-valued properties may be dropped (runtime messages only, never user values). */
  dropUndefinedProperties?: boolean;
}

export interface Serializer {
  encode(value: unknown, hooks?: SerializerHooks): EncodedValue;
  decode(encoded: EncodedValue, hooks?: SerializerHooks): unknown;
}

@injectable()
export class OutOfBandSerializer implements Serializer {
  encode(value: unknown, hooks?: SerializerHooks): EncodedValue {
    return encodeValue(value, hooks);
  }
  decode(encoded: EncodedValue, hooks?: SerializerHooks): unknown {
    return decodeValue(encoded.skeleton, encoded.attachments as Uint8Array[], hooks);
  }
}

/** A copy of `a` in memory of its own (not zero-filled first: every byte is written). */
function copyBytes(a: Uint8Array): Uint8Array {
  const b = Buffer.allocUnsafeSlow(a.byteLength);
  b.set(a);
  return new Uint8Array(b.buffer, b.byteOffset, a.byteLength);
}

/**
 * A copy of an encoded value's attachments, so decoded views can't alias stored bytes. A value
 * placed in shared memory is returned as it is: reading it copies the bytes anyway.
 */
export function detachedCopy(v: EncodedValue): EncodedValue {
  if (v.placed) return v;
  return { skeleton: v.skeleton, attachments: v.attachments.map(copyBytes) };
}
