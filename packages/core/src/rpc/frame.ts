/**
 * Length-prefixed frames carrying one encoded message: a v8-serialized skeleton plus
 * out-of-band binary attachments (tensor and buffer bytes), so large payloads are written
 * to the socket straight from their own memory and read into one buffer per frame.
 *
 * Layout (little endian):
 *   u32 bodyLength | u32 skeletonLength | u32 attachmentCount | u32 length[attachmentCount]
 *   | pad to 8 (relative to the body) | skeleton | pad to 8 | attachment 0 | pad to 8 | attachment 1 | ...
 * Attachments start 8-byte aligned relative to the frame body, and the body is read into a
 * fresh (8-aligned) allocation, so typed views onto it need no copy.
 */
import type { EncodedValue } from '../objects/encoded-value';

const MAX_BODY = 0xffff_ffff;
const pad8 = (n: number): number => (8 - (n % 8)) % 8;
const ZEROS = Buffer.alloc(8);

/** Buffers to write, in order, for one frame. No payload byte is copied. */
export function frameBuffers(msg: EncodedValue): Buffer[] {
  const n = msg.attachments.length;
  // Offsets below are relative to the body (after the length prefix): that is what the reader aligns.
  const bodyHeaderLen = 4 * (2 + n);
  const out: Buffer[] = [];
  const header = Buffer.allocUnsafe(4 + bodyHeaderLen + pad8(bodyHeaderLen));
  header.fill(0, 4 + bodyHeaderLen);
  let body = header.length - 4;
  header.writeUInt32LE(msg.skeleton.length, 4);
  header.writeUInt32LE(n, 8);
  out.push(header);
  out.push(msg.skeleton);
  body += msg.skeleton.length;
  if (pad8(body)) {
    out.push(ZEROS.subarray(0, pad8(body)));
    body += pad8(body);
  }
  msg.attachments.forEach((a, i) => {
    header.writeUInt32LE(a.byteLength, 12 + 4 * i);
    if (a.byteLength > 0) out.push(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    body += a.byteLength;
    const p = pad8(body);
    if (p) {
      out.push(ZEROS.subarray(0, p));
      body += p;
    }
  });
  if (body > MAX_BODY) throw new RangeError(`message of ${body} bytes exceeds the 4 GiB frame limit; split the value`);
  header.writeUInt32LE(body, 0);
  return out;
}

/** Parse a complete frame body (without its 4-byte length prefix) into skeleton + attachment views. */
function parseBody(body: Buffer): EncodedValue {
  const skelLen = body.readUInt32LE(0);
  const n = body.readUInt32LE(4);
  let off = 4 * (2 + n);
  off += pad8(off);
  const skeleton = body.subarray(off, off + skelLen);
  off += skelLen;
  off += pad8(off);
  const attachments: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const len = body.readUInt32LE(8 + 4 * i);
    attachments.push(new Uint8Array(body.buffer, body.byteOffset + off, len));
    off += len;
    off += pad8(off);
  }
  return { skeleton, attachments };
}

/**
 * Incremental frame reader: feed socket chunks, get whole frames. A large frame's body is
 * allocated once when its length is known and filled as chunks arrive (one copy from the
 * socket's chunks, none afterwards).
 */
export class FrameReader {
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private body: Buffer | null = null;
  private filled = 0;

  constructor(private readonly onFrame: (frame: EncodedValue) => void) {}

  push(chunk: Buffer): void {
    while (chunk.length > 0) {
      if (this.body) {
        const take = Math.min(chunk.length, this.body.length - this.filled);
        chunk.copy(this.body, this.filled, 0, take);
        this.filled += take;
        chunk = chunk.subarray(take);
        if (this.filled === this.body.length) {
          const body = this.body;
          this.body = null;
          this.onFrame(parseBody(body));
        }
        continue;
      }
      // Need the 4-byte length prefix.
      this.pending.push(chunk);
      this.pendingLen += chunk.length;
      if (this.pendingLen < 4) return;
      const joined = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingLen);
      this.pending = [];
      this.pendingLen = 0;
      const len = joined.readUInt32LE(0);
      // allocUnsafeSlow: a dedicated, 8-aligned ArrayBuffer, so typed views need no copy.
      this.body = Buffer.allocUnsafeSlow(len);
      this.filled = 0;
      chunk = joined.subarray(4);
      if (len === 0) {
        this.body = null;
        throw new Error('protocol error: empty frame');
      }
    }
  }
}
