/**
 * A message connection over a stream socket: requests with replies, one-way notifications,
 * and handlers by message type. Both the driver and actor processes use it, symmetrically.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { FrameProtocolError, FrameReader, frameBuffers } from './frame';
import { FRAME_FORMAT_MAX_BYTES } from './limits';
import type { Serializer } from '../objects/serializer';
import { fromWireError, toWireError, type WireError } from '../errors/wire-error';

/** One message on the wire. */
interface Envelope {
  /** message type (requests and notifications) */
  t?: string;
  /** request id (requests expect a reply) */
  i?: number;
  /** id of the request this replies to */
  r?: number;
  /** error reply */
  e?: WireError;
  /** body */
  b?: unknown;
}

const ENVELOPE_HOOKS = { dropUndefinedProperties: true } as const;

/** Frames up to this size are copied into one buffer and written with a single write. */
const SMALL_FRAME = 64 * 1024;
const EMPTY = Buffer.alloc(0);

export type Handler = (body: any, conn: Connection) => unknown;

export interface ConnectionOptions {
  /**
   * Keep the process alive only while a request awaits its reply (the driver's connections: an
   * idle driver must be able to exit).
   */
  refWhileWaiting?: boolean;
  /** Largest frame body sent or received (default: the format's limit, 4 GiB - 1). */
  maxFrameBytes?: number;
  /**
   * The peer has not authenticated yet: any message without a handler, or a handler that
   * fails, closes the connection with no reply (a stranger learns nothing: no stacks, no
   * paths), until {@link Connection.trust} is called.
   */
  untrusted?: boolean;
}

export class ConnectionClosedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ConnectionClosedError';
  }
}

export class Connection extends EventEmitter {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private readonly handlers = new Map<string, Handler>();
  private readonly reader: FrameReader;
  private closedWith: Error | null = null;
  private untrusted: boolean;
  private maxBytes: number;
  private pendingSmall: Buffer[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;

  private readonly refWhileWaiting: boolean;

  /**
   * Events besides 'close': 'protocolError' (err) when the peer broke the protocol (the
   * connection is then closed), 'unhandled' and 'handlerError' for notifications.
   */
  constructor(
    readonly socket: Socket,
    private readonly serializer: Serializer,
    options: ConnectionOptions = {},
  ) {
    super();
    this.refWhileWaiting = options.refWhileWaiting ?? false;
    this.untrusted = options.untrusted ?? false;
    this.maxBytes = options.maxFrameBytes ?? FRAME_FORMAT_MAX_BYTES;
    if (this.refWhileWaiting) socket.unref();
    this.reader = new FrameReader((frame) => this.dispatch(frame), this.maxBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.closedWith) return;
      try {
        this.reader.push(chunk);
      } catch (err) {
        this.protocolError(err instanceof FrameProtocolError ? err.message : `protocol error: ${(err as Error).message}`);
      }
    });
    socket.on('error', (err) => this.onClosed(err.message));
    socket.on('close', () => this.onClosed('connection closed'));
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /** Largest frame body this connection sends and accepts. */
  get maxFrameBytes(): number {
    return this.maxBytes;
  }

  set maxFrameBytes(n: number) {
    this.maxBytes = n;
    this.reader.maxBytes = n;
  }

  /** The peer authenticated: lift the stranger rules and apply the runtime's frame limit. */
  trust(maxFrameBytes: number): void {
    this.untrusted = false;
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Register the handler of a message type; its return value (or Promise) is the reply. */
  handle(type: string, handler: Handler): this {
    this.handlers.set(type, handler);
    return this;
  }

  /** Send a request and wait for its reply. */
  request<T = unknown>(type: string, body?: unknown): Promise<T> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const i = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(i, { resolve, reject });
      if (this.refWhileWaiting && this.waiting.size === 1) this.socket.ref();
      try {
        this.write({ t: type, i, b: body });
      } catch (err) {
        this.waiting.delete(i);
        if (this.refWhileWaiting && this.waiting.size === 0) this.socket.unref();
        reject(err);
      }
    });
  }

  /** Send a one-way message. Throws if the body cannot be serialized. */
  notify(type: string, body?: unknown): void {
    if (this.closedWith) return;
    this.write({ t: type, b: body });
  }

  /**
   * Run `fn` once everything sent so far has been handed to the socket: large frames are
   * written from their owners' memory, which must not be reused before. Runs after the small
   * frames of this tick are flushed; at once (next tick) when nothing is pending, and also when
   * the connection closes first.
   */
  afterWrites(fn: () => void): void {
    process.nextTick(() => {
      if (this.closedWith || this.socket.destroyed || this.socket.writableLength === 0) return fn();
      // Writes complete in order: this empty one's callback runs after all that came before.
      this.socket.write(EMPTY, () => fn());
    });
  }

  /** Close the connection; pending requests fail with `reason`. */
  destroy(reason = 'connection closed'): void {
    this.onClosed(reason);
    this.socket.destroy();
  }

  private write(env: Envelope): void {
    // User values inside messages are already encoded; the envelope itself may drop undefineds.
    const encoded = this.serializer.encode(env, ENVELOPE_HOOKS);
    const bufs = frameBuffers(encoded, this.maxBytes);
    let total = 0;
    for (const b of bufs) total += b.length;
    if (total <= SMALL_FRAME) {
      // Small frames of one tick are coalesced into a single write: a socket write is a
      // system call, and on sandboxed VMs one costs ~100-200 us of CPU (more than encoding).
      // Copied now: the frame may view caller memory that changes before the flush.
      this.pendingSmall.push(Buffer.concat(bufs, total));
      this.pendingBytes += total;
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        process.nextTick(this.flush);
      }
      if (this.pendingBytes >= SMALL_FRAME) this.flush();
      return;
    }
    // Large payloads are written from their own memory, never copied into one buffer; what
    // was queued before them goes first.
    this.flush();
    this.socket.cork();
    for (const b of bufs) this.socket.write(b);
    process.nextTick(() => this.socket.uncork());
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.pendingSmall.length === 0) return;
    const bufs = this.pendingSmall;
    const n = this.pendingBytes;
    this.pendingSmall = [];
    this.pendingBytes = 0;
    if (!this.socket.destroyed) this.socket.write(bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs, n));
  };

  private dispatch(frame: { skeleton: Buffer; attachments: readonly Uint8Array[] }): void {
    let env: Envelope;
    try {
      env = this.serializer.decode(frame) as Envelope;
    } catch (err) {
      this.protocolError(`undecodable message: ${(err as Error).message}`);
      return;
    }
    if (env === null || typeof env !== 'object') {
      this.protocolError('malformed message');
      return;
    }
    if (env.r !== undefined) {
      if (this.untrusted) {
        this.protocolError('unexpected reply before authentication');
        return;
      }
      const w = this.waiting.get(env.r);
      if (!w) return;
      this.waiting.delete(env.r);
      if (this.refWhileWaiting && this.waiting.size === 0) this.socket.unref();
      if (env.e) w.reject(fromWireError(env.e));
      else w.resolve(env.b);
      return;
    }
    const handler = typeof env.t === 'string' ? this.handlers.get(env.t) : undefined;
    if (!handler && this.untrusted) {
      this.protocolError('unexpected message before authentication');
      return;
    }
    if (!handler) {
      if (env.i !== undefined) this.reply(env.i, undefined, new Error(`no handler for message '${env.t}'`));
      else this.emit('unhandled', env.t, env.b);
      return;
    }
    let result: unknown;
    try {
      result = handler(env.b, this);
    } catch (err) {
      if (env.i !== undefined) this.reply(env.i, undefined, err);
      else if (this.untrusted) this.destroy('message refused before authentication');
      else this.emit('handlerError', err, env.t);
      return;
    }
    if (env.i === undefined) {
      if (result instanceof Promise) result.catch((err) => this.emit('handlerError', err, env.t));
      return;
    }
    const id = env.i;
    Promise.resolve(result).then(
      (v) => this.reply(id, v),
      (err) => this.reply(id, undefined, err),
    );
  }

  private reply(id: number, value: unknown, err?: unknown): void {
    if (this.closedWith) return;
    if (err !== undefined && this.untrusted) {
      // A stranger gets no error text (it could carry stacks and paths): just the close.
      this.destroy('request refused before authentication');
      return;
    }
    try {
      this.write(err === undefined ? { r: id, b: value } : { r: id, e: toWireError(err) });
    } catch (encodeErr) {
      this.write({ r: id, e: toWireError(encodeErr) });
    }
  }

  /** The peer broke the protocol: say so to listeners, then hang up. */
  private protocolError(message: string): void {
    if (this.closedWith) return;
    // Listeners hear why before 'close' (an actor process exits on close).
    this.emit('protocolError', new Error(message));
    this.destroy(message);
  }

  private onClosed(reason: string): void {
    if (this.closedWith) return;
    this.closedWith = new ConnectionClosedError(reason);
    for (const w of this.waiting.values()) w.reject(this.closedWith);
    this.waiting.clear();
    this.emit('close', this.closedWith);
  }
}
