/**
 * A two-sided transport in plain TypeScript over loopback TCP, for tests: core's own tests of
 * the GPU-object machinery and the conformance suite's self-tests run on it without native
 * code. It is not a product transport. It also shows how little a third-party transport needs.
 *
 * Each member of a group listens, publishes its port through the rendezvous store, and connects
 * to every member of a higher rank; a frame carries (tag, tensor sizes) and the bytes. Every
 * operation has the group's deadline, and abort, destroy or a lost connection fail what waits,
 * with TransportErrors of the right kind, as the SPI asks of a real transport.
 */
import * as net from 'node:net';
import type {
  CollectiveGroup,
  CreateGroupOptions,
  TwoSidedEndpoint,
  TwoSidedTransportPlugin,
  TransportTensor,
} from '../transport/spi';
import { TransportError, type TransportErrorKind } from '../transport/transport-error';
import { FrameParser, writeFrame, type FrameHeader } from './framing';

/** The name {@link createFakeTcpPlugin} gives the transport unless told otherwise. */
export const FAKE_TCP_NAME = 'fake-tcp';

/** The fake's errors follow the SPI's contract like a real transport's (code `FAKE_TCP_<kind>`). */
export class FakeTcpError extends TransportError {
  constructor(kind: TransportErrorKind, message: string) {
    super(kind, `FAKE_TCP_${kind}`, message);
  }
}

interface Message {
  sizes: number[];
  payload: Buffer;
}

/** What is waiting on a group: failed all at once by abort, destroy or a dead connection. */
class Waiters {
  private pending = new Set<(e: Error) => void>();
  add(fail: (e: Error) => void): () => void {
    this.pending.add(fail);
    return () => this.pending.delete(fail);
  }
  failAll(e: Error): void {
    const all = [...this.pending];
    this.pending.clear();
    all.forEach((f) => f(e));
  }
}

/**
 * A fake must never keep a process alive (an actor or a test peer exits when its own work is
 * done, as with a real transport), so its sockets and servers are unref'd.
 */
function unref<T extends { unref(): unknown }>(handle: T): T {
  handle.unref();
  return handle;
}

/** The connection to one peer rank: frames that arrived before their recv wait in `inbox`. */
class Link {
  readonly inbox = new Map<number, Message>();
  readonly recvs = new Map<number, (m: Message) => void>();
  dead: Error | undefined;
  constructor(
    readonly socket: net.Socket,
    readonly rank: number,
    transport: string,
    onDeath: (link: Link, e: Error) => void,
  ) {
    const parser = new FrameParser((h, payload) => this.onFrame(h, payload));
    socket.on('data', (c) => parser.push(c));
    const die = (why: string) => {
      if (this.dead) return;
      this.dead = new FakeTcpError('PEER_LOST', `${transport}: connection to rank ${rank} lost (${why})`);
      onDeath(this, this.dead);
    };
    socket.on('error', (e) => die(e.message));
    socket.on('close', () => die('closed'));
  }
  private onFrame(h: FrameHeader, payload: Buffer): void {
    const tag = h.tag as number;
    const m = { sizes: h.sizes as number[], payload };
    const r = this.recvs.get(tag);
    if (r) {
      this.recvs.delete(tag);
      r(m);
    } else this.inbox.set(tag, m);
  }
}

class FakeGroup implements CollectiveGroup {
  private readonly links = new Map<number, Link>();
  private readonly waiters = new Waiters();
  private broken: Error | undefined;
  private barriers = 0;

  private constructor(
    private readonly transport: string,
    readonly name: string,
    readonly rank: number,
    readonly worldSize: number,
    private readonly timeoutMs: number,
    private readonly server: net.Server,
  ) {}

  static async create(transport: string, o: CreateGroupOptions): Promise<FakeGroup> {
    if (!Number.isInteger(o.worldSize) || o.worldSize < 1 || !Number.isInteger(o.rank) || o.rank < 0 || o.rank >= o.worldSize) {
      throw new FakeTcpError('INVALID', `${transport}: rank ${o.rank} is out of range for worldSize ${o.worldSize}`);
    }
    const server = unref(net.createServer());
    await new Promise<void>((res, rej) => server.listen(0, '127.0.0.1', res).once('error', rej));
    const g = new FakeGroup(transport, o.name, o.rank, o.worldSize, o.timeoutMs, server);
    // Lower ranks accept, higher ranks connect; the first 4 bytes say who is calling.
    const accepted = new Promise<void>((resolve) => {
      let want = o.rank;
      if (want === 0) resolve();
      server.on('connection', (s) => {
        s.once('data', (first) => {
          const r = first.readUInt32LE(0);
          s.pause();
          g.addLink(s, r);
          if (first.length > 4) s.unshift(first.subarray(4));
          s.resume();
          if (--want === 0) resolve();
        });
      });
    });
    await o.rendezvous.set(`addr/${o.rank}`, Buffer.from(String((server.address() as net.AddressInfo).port)));
    for (let peer = o.rank + 1; peer < o.worldSize; peer++) {
      const port = Number(Buffer.from(await o.rendezvous.get(`addr/${peer}`, o.timeoutMs)).toString());
      const s = net.connect(port, '127.0.0.1');
      await new Promise<void>((res, rej) => s.once('connect', res).once('error', rej));
      const hello = Buffer.alloc(4);
      hello.writeUInt32LE(o.rank);
      s.write(hello);
      g.addLink(s, peer);
    }
    await Promise.race([
      accepted,
      new Promise((_, rej) => setTimeout(() => rej(new FakeTcpError('TIMEOUT', `${transport}: connect timed out after ${o.timeoutMs} ms (the group's deadline)`)), o.timeoutMs).unref()),
    ]);
    return g;
  }

  private addLink(s: net.Socket, rank: number): void {
    s.setNoDelay(true);
    this.links.set(rank, new Link(unref(s), rank, this.transport, (_l, e) => this.waiters.failAll(e)));
  }

  private link(rank: number): Link {
    if (this.broken) throw this.broken;
    if (!Number.isInteger(rank) || rank < 0 || rank >= this.worldSize || rank === this.rank) {
      throw new FakeTcpError('INVALID', `${this.transport}: rank ${rank} is not a peer in group ${this.name} (size ${this.worldSize}, self ${this.rank})`);
    }
    const l = this.links.get(rank)!;
    if (l.dead) throw l.dead;
    return l;
  }

  /** Run `op` with the group's deadline; abort, destroy and a dead connection fail it. */
  private guarded<T>(what: string, op: (done: (v: T) => void, fail: (e: Error) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let remove = () => {};
      const timer = setTimeout(
        () => finish(new FakeTcpError('TIMEOUT', `${this.transport}: ${what} timed out after ${this.timeoutMs} ms (the group's deadline)`)),
        this.timeoutMs,
      );
      const finish = (e: Error | undefined, v?: T) => {
        clearTimeout(timer);
        remove();
        if (e) reject(e);
        else resolve(v as T);
      };
      remove = this.waiters.add((e) => finish(e));
      try {
        op((v) => finish(undefined, v), (e) => finish(e));
      } catch (e) {
        finish(e as Error);
      }
    });
  }

  send(tensors: readonly TransportTensor[], dstRank: number, tag: number): Promise<void> {
    return this.guarded(`send to ${dstRank} tag ${tag}`, (done, fail) => {
      const l = this.link(dstRank);
      const sizes = tensors.map((t) => t.nbytes);
      const payloadBytes = sizes.reduce((a, b) => a + b, 0);
      writeFrame(l.socket, { payloadBytes, tag, sizes }, tensors.map((t) => t.bytes())).then(() => done(undefined), fail);
    });
  }

  recv(into: readonly TransportTensor[], srcRank: number, tag: number): Promise<void> {
    return this.guarded(`recv from ${srcRank} tag ${tag}`, (done, fail) => {
      const l = this.link(srcRank);
      const deliver = (m: Message) => {
        const want = into.map((t) => t.nbytes);
        if (want.length !== m.sizes.length || want.some((n, i) => n !== m.sizes[i])) {
          fail(new FakeTcpError('INVALID', `${this.transport}: size mismatch on tag ${tag}: sent [${m.sizes}] bytes, receiving into [${want}]`));
          return;
        }
        let off = 0;
        for (const t of into) {
          t.bytes().set(m.payload.subarray(off, off + t.nbytes));
          off += t.nbytes;
        }
        done(undefined);
      };
      const early = l.inbox.get(tag);
      if (early) {
        l.inbox.delete(tag);
        deliver(early);
      } else l.recvs.set(tag, deliver);
    });
  }

  async barrier(): Promise<void> {
    const tag = -1 - this.barriers++;
    const others = [...this.links.keys()];
    await Promise.all(others.flatMap((r) => [this.send([], r, tag), this.recv([], r, tag)]));
  }

  abort(reason: string): void {
    this.broken = new FakeTcpError('ABORTED', `${this.transport}: group ${this.name} aborted: ${reason}`);
    this.waiters.failAll(this.broken);
  }

  async destroy(): Promise<void> {
    this.broken = new FakeTcpError('CLOSED', `${this.transport}: group ${this.name} was destroyed`);
    this.waiters.failAll(this.broken);
    for (const l of this.links.values()) l.socket.destroy();
    this.server.close();
  }
}

/**
 * A fresh plugin object of the fake two-sided transport (CPU tensors, send/recv and barrier over
 * groups, abortable). Register it from the module that other processes load to get it, as a
 * transport package does:
 * ```ts
 * registerTransport(createFakeTcpPlugin(), { module: __filename });
 * ```
 * @param name the transport's name (tests that need two fakes side by side give different names).
 */
export function createFakeTcpPlugin(name = FAKE_TCP_NAME): TwoSidedTransportPlugin {
  return {
    name,
    kind: 'two-sided',
    supports: { devices: ['cpu'], collectives: ['barrier'] },
    async probe() {
      return { available: true, detail: 'pure TypeScript over loopback TCP (testing only)' };
    },
    async createEndpoint(): Promise<TwoSidedEndpoint> {
      const groups = new Set<FakeGroup>();
      let closed = false;
      return {
        kind: 'two-sided',
        async createGroup(o) {
          if (closed) throw new FakeTcpError('CLOSED', `${name}: the endpoint is closed`);
          const g = await FakeGroup.create(name, o);
          groups.add(g);
          return g;
        },
        async close() {
          closed = true;
          await Promise.all([...groups].map((g) => g.destroy()));
        },
      };
    },
  };
}
