/**
 * 'fake-rma': a one-sided transport in pure TypeScript, registered when this module is imported.
 * Each endpoint serves its registrations on a loopback TCP port; `read` asks that port for the
 * bytes. Not truly one-sided (the producer's event loop answers), but it has the SPI's shape
 * and failure modes, which is all the harness self-test needs.
 */
import * as net from 'node:net';
import {
  registerTransport,
  type RemoteDescriptor,
  type OneSidedEndpoint,
  type OneSidedTransportPlugin,
  type TransportErrorKind,
  type TransportTensor,
  TransportError,
} from '@tensorwire/core';
import { FrameParser, writeFrame } from './framing';

/** The fake's errors follow the SPI's contract like a real transport's. */
export class FakeRmaError extends TransportError {
  constructor(kind: TransportErrorKind, message: string) {
    super(kind, `FAKE_RMA_${kind}`, `fake-rma: ${message}`);
  }
}

interface Descriptor {
  readonly port: number;
  readonly id: number;
  readonly sizes: number[];
}

class Connection {
  private nextReq = 1;
  private readonly pending = new Map<number, { resolve: (p: Buffer) => void; reject: (e: Error) => void }>();
  dead: Error | undefined;
  constructor(readonly socket: net.Socket) {
    const parser = new FrameParser((h, payload) => {
      const p = this.pending.get(h.req as number);
      this.pending.delete(h.req as number);
      if (!p) return;
      if (h.error) p.reject(new FakeRmaError('INVALID', String(h.error)));
      else p.resolve(payload);
    });
    socket.on('data', (c) => parser.push(c));
    const die = (why: string) => {
      this.dead ??= new FakeRmaError('PEER_LOST', `producer connection lost (${why})`);
      for (const p of this.pending.values()) p.reject(this.dead);
      this.pending.clear();
    };
    socket.on('error', (e) => die(e.message));
    socket.on('close', () => die('closed'));
  }
  request(id: number): { req: number; result: Promise<Buffer> } {
    const req = this.nextReq++;
    const result = new Promise<Buffer>((resolve, reject) => {
      if (this.dead) return reject(this.dead);
      this.pending.set(req, { resolve, reject });
      writeFrame(this.socket, { payloadBytes: 0, req, id }).catch(reject);
    });
    return { req, result };
  }
  forget(req: number): void {
    this.pending.delete(req);
  }
}

/** A descriptor from an untrusted source: INVALID unless it has this fake's shape. */
function asDescriptor(d: unknown): Descriptor {
  const x = d as Partial<Descriptor> | null;
  if (!x || typeof x !== 'object' || !Number.isInteger(x.port) || !Number.isInteger(x.id) || !Array.isArray(x.sizes)) {
    throw new FakeRmaError('INVALID', `not a fake-rma descriptor: ${JSON.stringify(d)}`);
  }
  return x as Descriptor;
}

async function createEndpoint(): Promise<OneSidedEndpoint> {
  const registrations = new Map<number, readonly TransportTensor[]>();
  let nextId = 1;
  const server = net.createServer((s) => {
    const parser = new FrameParser((h) => {
      const tensors = registrations.get(h.id as number);
      if (!tensors) {
        void writeFrame(s, { payloadBytes: 0, req: h.req, error: `registration ${h.id} is not registered (released?)` }).catch(() => {});
        return;
      }
      const sizes = tensors.map((t) => t.nbytes);
      void writeFrame(s, { payloadBytes: sizes.reduce((a, b) => a + b, 0), req: h.req }, tensors.map((t) => t.bytes())).catch(() => {});
    });
    s.on('data', (c) => parser.push(c));
    s.on('error', () => {});
  });
  await new Promise<void>((res, rej) => server.listen(0, '127.0.0.1', res).once('error', rej));
  const port = (server.address() as net.AddressInfo).port;
  const connections = new Map<number, Promise<Connection>>();
  const connect = (p: number): Promise<Connection> => {
    let c = connections.get(p);
    if (!c) {
      c = new Promise<Connection>((resolve, reject) => {
        const s = net.connect(p, '127.0.0.1');
        s.once('connect', () => resolve(new Connection(s)));
        s.once('error', (e) => {
          connections.delete(p);
          reject(new FakeRmaError('PEER_LOST', `cannot reach the producer on port ${p}: ${e.message}`));
        });
      });
      connections.set(p, c);
    }
    return c;
  };

  let closed = false;
  const checkOpen = (): void => {
    if (closed) throw new FakeRmaError('CLOSED', 'the endpoint is closed');
  };
  return {
    kind: 'one-sided',
    async register(tensors): Promise<RemoteDescriptor> {
      checkOpen();
      const id = nextId++;
      registrations.set(id, [...tensors]);
      return { port, id, sizes: tensors.map((t) => t.nbytes) } satisfies Descriptor;
    },
    async read(d, into, timeoutMs) {
      checkOpen();
      const desc = asDescriptor(d);
      const want = into.map((t) => t.nbytes);
      if (want.length !== desc.sizes.length || want.some((n, i) => n !== desc.sizes[i])) {
        throw new FakeRmaError('INVALID', `registered sizes [${desc.sizes}] differ from the read's [${want}]`);
      }
      let conn = await connect(desc.port);
      if (conn.dead) {
        connections.delete(desc.port);
        conn = await connect(desc.port);
      }
      const { req, result } = conn.request(desc.id);
      let timer: NodeJS.Timeout | undefined;
      const payload = await Promise.race([
        result,
        new Promise<never>((_, rej) => {
          timer = setTimeout(() => {
            conn.forget(req);
            rej(new FakeRmaError('TIMEOUT', `read timed out after ${timeoutMs} ms`));
          }, timeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
      if (payload.length !== want.reduce((a, b) => a + b, 0)) throw new FakeRmaError('INTERNAL', 'short read');
      let off = 0;
      for (const t of into) {
        t.bytes().set(payload.subarray(off, off + t.nbytes));
        off += t.nbytes;
      }
    },
    async release(d) {
      registrations.delete(asDescriptor(d).id);
    },
    allocate(nbytes) {
      return new Uint8Array(nbytes);
    },
    async close() {
      closed = true;
      server.close();
      for (const c of connections.values()) void c.then((x) => x.socket.destroy(), () => {});
    },
  };
}

export const fakeRmaPlugin: OneSidedTransportPlugin = {
  name: 'fake-rma',
  kind: 'one-sided',
  supports: { devices: ['cpu'], registeredPool: true },
  async probe() {
    return { available: true, detail: 'pure TypeScript over loopback TCP (testing only)' };
  },
  createEndpoint,
};

registerTransport(fakeRmaPlugin, { module: __filename });
