/**
 * A value serialized once: a v8 skeleton plus out-of-band binary attachments (tensor bytes,
 * TypedArrays, Buffers). The object store keeps values in this form and forwards them to
 * consumers without re-encoding.
 */
export interface EncodedValue {
  readonly skeleton: Buffer;
  readonly attachments: readonly Uint8Array[];
}

/** Total bytes of an encoded value. */
export function encodedSize(v: EncodedValue): number {
  let n = v.skeleton.length;
  for (const a of v.attachments) n += a.byteLength;
  return n;
}
