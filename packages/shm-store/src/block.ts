/**
 * A block of an arena: a 64-byte header, then the value's attachments (each 64-byte aligned).
 * The header's first 32-bit word is the block's state, the one thing two processes write:
 * the producer sets HELD when it writes a value (before the driver can know of it), the driver
 * sets RELEASED when the object is freed; the producer reuses RELEASED blocks.
 */
export const HEADER_BYTES = 64;
export const ALIGN = 64;

export const enum BlockState {
  /** never used */
  New = 0,
  /** a value lives in it */
  Held = 1,
  /** the driver let go of the value: the producer may reuse the block */
  Released = 2,
}

export const alignUp = (n: number, a: number = ALIGN): number => Math.ceil(n / a) * a;

/** Offsets (from the block's data start) of attachments of `lengths`, and the bytes they span. */
export function layout(lengths: readonly number[]): { offsets: number[]; bytes: number } {
  const offsets: number[] = [];
  let at = 0;
  for (const n of lengths) {
    offsets.push(at);
    at += alignUp(n);
  }
  return { offsets, bytes: at };
}
