/**
 * A value serialized once: a v8 skeleton plus out-of-band binary attachments (tensor bytes,
 * TypedArrays, Buffers). The object store keeps values in this form and forwards them to
 * consumers without re-encoding.
 */
export interface EncodedValue {
  readonly skeleton: Buffer;
  readonly attachments: readonly Uint8Array[];
  /**
   * Set when the attachments were placed outside the message (shared memory, by a
   * ValuePlacement: see value-placement.ts): `attachments` is then empty and this says where
   * they are. Absent for values that carry their bytes.
   */
  readonly placed?: PlacedAttachments;
}

/** Where a placed value's attachments are. Plain data; the fields beyond these are the placement's own. */
export interface PlacedAttachments {
  /** Name of the placement that wrote them (ValuePlacement.name). */
  readonly by: string;
  /** Where they can be read: equal to ValuePlacement.host() in a process that can read them. */
  readonly host: string;
  /** Byte length of each attachment, in order. */
  readonly lengths: readonly number[];
}

/** Total bytes of an encoded value. */
export function encodedSize(v: EncodedValue): number {
  let n = v.skeleton.length;
  for (const a of v.attachments) n += a.byteLength;
  if (v.placed) for (const len of v.placed.lengths) n += len;
  return n;
}
