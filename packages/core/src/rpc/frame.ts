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
import { InvalidArgumentError } from '../errors/errors';
import { FRAME_FORMAT_MAX_BYTES } from './limits';

const pad8 = (n: number): number => (8 - (n % 8)) % 8;
const ZEROS = Buffer.alloc(8);

/** Size of a frame's body (what its length prefix says) for `msg`, without building it. */
export function frameBodyBytes(msg: EncodedValue): number {
  const n = msg.attachments.length;
  let body = 4 * (2 + n);
  body += pad8(body) + msg.skeleton.length;
  body += pad8(body);
  for (const a of msg.attachments) {
    body += a.byteLength;
    body += pad8(body);
  }
  return body;
}

/**
 * Buffers to write, in order, for one frame. No payload byte is copied.
 *
 * @param maxBytes the largest body the receiver accepts (`RuntimeOptions.maxFrameBytes`).
 * @throws InvalidArgumentError naming the size and the limit, before anything is built, when
 *   the message is larger: the sender learns why, instead of the receiver hanging up.
 */
export function frameBuffers(msg: EncodedValue, maxBytes: number = FRAME_FORMAT_MAX_BYTES): Buffer[] {
  const total = frameBodyBytes(msg);
  if (total > Math.min(maxBytes, FRAME_FORMAT_MAX_BYTES)) throw tooLarge(total, maxBytes);
  const n = msg.attachments.length;
  // Offsets below are relative to the body (after the length prefix): that is what the reader aligns.
  const bodyHeaderLen = 4 * (2 + n);
  const out: Buffer[] = [];
  const header = Buffer.allocUnsafe(4 + bodyHeaderLen + pad8(bodyHeaderLen));
  header.fill(0, 4 + bodyHeaderLen);
  let body = header.length - 4;
  header.writeUInt32LE(total, 0);
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
  return out;
}

function tooLarge(bytes: number, maxBytes: number): InvalidArgumentError {
  const size = `${bytes.toLocaleString('en-US')} bytes`;
  if (maxBytes < FRAME_FORMAT_MAX_BYTES) {
    return new InvalidArgumentError(
      `a message of ${size} exceeds the control plane's frame limit of ${maxBytes.toLocaleString('en-US')} bytes ` +
        '(maxFrameBytes); raise it with init({ maxFrameBytes }), or send less per message ' +
        "(e.g. return tensors with @method({ tensorTransport }) so they move over a tensor transport)",
    );
  }
  return new InvalidArgumentError(
    `a message of ${size} exceeds the frame format's limit of ${FRAME_FORMAT_MAX_BYTES.toLocaleString('en-US')} bytes ` +
      '(4 GiB - 1); split the value over several calls or puts, or move tensors with a tensor transport',
  );
}

/** A peer broke the frame protocol; the connection must be closed. */
export class FrameProtocolError extends Error {
  constructor(message: string) {
    super(`protocol error: ${message}`);
    this.name = 'FrameProtocolError';
  }
}

/** Parse a complete frame body (without its 4-byte length prefix) into skeleton + attachment views. */
function parseBody(body: Buffer): EncodedValue {
  // Every length is checked against the body: a peer's bytes must not index outside it.
  const malformed = (): FrameProtocolError => new FrameProtocolError(`malformed frame of ${body.length} bytes`);
  if (body.length < 8) throw malformed();
  const skelLen = body.readUInt32LE(0);
  const n = body.readUInt32LE(4);
  let off = 4 * (2 + n);
  off += pad8(off);
  if (off + skelLen > body.length) throw malformed();
  const skeleton = body.subarray(off, off + skelLen);
  off += skelLen;
  off += pad8(off);
  const attachments: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const len = body.readUInt32LE(8 + 4 * i);
    if (off + len > body.length) throw malformed();
    attachments.push(new Uint8Array(body.buffer, body.byteOffset + off, len));
    off += len;
    off += pad8(off);
  }
  return { skeleton, attachments };
}

/**
 * Incremental frame reader: feed socket chunks, get whole frames. A large frame's body is
 * allocated once when its length is known and filled as chunks arrive (one copy from the
 * socket's chunks, none afterwards). A length above `maxBytes` is a protocol error raised
 * before anything is allocated: the length comes from the peer.
 */
export class FrameReader {
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private body: Buffer | null = null;
  private filled = 0;
  private failed: FrameProtocolError | null = null;

  /**
   * @param maxBytes largest body accepted; may be changed between frames (e.g. raised once the
   *   peer has authenticated).
   */
  constructor(
    private readonly onFrame: (frame: EncodedValue) => void,
    public maxBytes: number = FRAME_FORMAT_MAX_BYTES,
  ) {}

  /** @throws FrameProtocolError (and then refuses every later chunk: the stream is out of step) */
  push(chunk: Buffer): void {
    if (this.failed) throw this.failed;
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
      if (len === 0) throw (this.failed = new FrameProtocolError('empty frame'));
      if (len > this.maxBytes) {
        throw (this.failed = new FrameProtocolError(
          `frame of ${len.toLocaleString('en-US')} bytes exceeds the limit of ${this.maxBytes.toLocaleString('en-US')} bytes`,
        ));
      }
      // allocUnsafeSlow: a dedicated, 8-aligned ArrayBuffer, so typed views need no copy.
      this.body = Buffer.allocUnsafeSlow(len);
      this.filled = 0;
      chunk = joined.subarray(4);
    }
  }
}
