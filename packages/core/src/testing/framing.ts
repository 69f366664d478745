/**
 * Length-prefixed frames for the fake transports of tests: [u32 header length][JSON header]
 * [payload of header.payloadBytes bytes]. Simple rather than fast: fakes prove behaviour, not speed.
 */
import type { Socket } from 'node:net';

/** The JSON header of a frame: how many payload bytes follow, and whatever the fake needs. */
export interface FrameHeader {
  readonly payloadBytes: number;
  readonly [k: string]: unknown;
}

/** Writes one frame; resolves once the socket flushed it (rejects when the write failed). */
export function writeFrame(socket: Socket, header: FrameHeader, payload: readonly Uint8Array[] = []): Promise<void> {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  socket.cork();
  socket.write(len);
  socket.write(json);
  for (const p of payload) if (p.byteLength) socket.write(Buffer.from(p.buffer, p.byteOffset, p.byteLength));
  return new Promise((resolve, reject) => {
    // The last write's callback runs once everything before it was flushed (or failed).
    socket.write(Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    socket.uncork();
  });
}

/** Feeds socket data and calls `onFrame` for each complete frame. */
export class FrameParser {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private header: FrameHeader | undefined;

  constructor(private readonly onFrame: (header: FrameHeader, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (!this.header) {
        if (this.buffered < 4) return;
        const head = this.peek(4).readUInt32LE(0);
        if (this.buffered < 4 + head) return;
        this.take(4);
        this.header = JSON.parse(this.take(head).toString()) as FrameHeader;
      }
      if (this.buffered < this.header.payloadBytes) return;
      const payload = this.take(this.header.payloadBytes);
      const h = this.header;
      this.header = undefined;
      this.onFrame(h, payload);
    }
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0].subarray(0, n);
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    const first = this.chunks[0];
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }
}
