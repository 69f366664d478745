/**
 * Test helpers for the control plane: raw peers that speak (or break) the frame protocol, and
 * a Logger that keeps its lines. Used by the rpc and attack tests only.
 */
import * as net from 'node:net';
import { frameBuffers } from './frame';
import { OutOfBandSerializer } from '../objects/serializer';
import type { Logger } from '../log/logger';

const serializer = new OutOfBandSerializer();

/** One whole frame carrying `envelope`, as the runtime would write it. */
export function frameOf(envelope: unknown): Buffer {
  return Buffer.concat(frameBuffers(serializer.encode(envelope, { dropUndefinedProperties: true })));
}

/** A raw client socket that records what it receives and when the server hangs up. */
export interface RawPeer {
  socket: net.Socket;
  /** Bytes received from the server so far. */
  received(): number;
  /** Resolves when the socket is closed (by either side). */
  closed: Promise<void>;
  isClosed(): boolean;
}

/** Connect to a control-plane address (a socket path or host:port). */
export function connectRaw(address: string): Promise<RawPeer> {
  const tcp = /^(.*):(\d+)$/.exec(address);
  const socket = tcp && !address.startsWith('/') ? net.createConnection(Number(tcp[2]), tcp[1]) : net.createConnection(address);
  let bytes = 0;
  let done = false;
  socket.on('data', (c: Buffer) => (bytes += c.length));
  const closed = new Promise<void>((resolve) => socket.once('close', () => {
    done = true;
    resolve();
  }));
  return new Promise<RawPeer>((resolve, reject) => {
    socket.once('connect', () => {
      // From here on, errors (EPIPE, ECONNRESET when the server hangs up) are just a close.
      socket.on('error', () => {});
      resolve({ socket, received: () => bytes, closed, isClosed: () => done });
    });
    socket.once('error', reject);
  });
}

/** Write `data`, ignoring a server that hangs up part way (it is allowed to). */
export function writeRaw(peer: RawPeer, data: Buffer): void {
  if (!peer.socket.destroyed) peer.socket.write(data);
}

/** Resolves when `cond()` holds, polling every 20 ms; rejects after `limit` polls (bounded). */
export async function until(cond: () => boolean, what: string, limit = 1500): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`gave up waiting for: ${what}`);
}

/** A Logger that keeps every line, prefixed with its level. */
export class MemoryLogger implements Logger {
  readonly lines: string[] = [];
  debug(m: string): void { this.lines.push(`debug ${m}`); }
  info(m: string): void { this.lines.push(`info ${m}`); }
  warn(m: string): void { this.lines.push(`warn ${m}`); }
  error(m: string): void { this.lines.push(`error ${m}`); }
}
