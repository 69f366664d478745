/**
 * Test helper process (forked by the tests): a producer or consumer agent driven over IPC.
 * Each request is { rid, op, ... }; each reply is { rid, ok, value? , error? }.
 */
import { nixlPlugin } from '../index';
import type { NixlEndpoint } from '../endpoint';
import type { NixlDescriptor } from '../descriptor';
import { cpuTensor, expectedPattern, fillPattern } from './pattern';

interface Request {
  rid: number;
  op: 'register' | 'registerAgain' | 'release' | 'stats' | 'read' | 'close';
  sizes?: number[];
  seed?: number;
  pool?: boolean;
  key?: string;
  desc?: NixlDescriptor;
  timeoutMs?: number;
}

const kept = new Map<string, Uint8Array[]>();
let endpoint: NixlEndpoint;

async function handle(req: Request): Promise<unknown> {
  switch (req.op) {
    case 'register': {
      const bufs = req.sizes!.map((size, i) => {
        const b = req.pool ? endpoint.allocate(size) : new Uint8Array(size);
        fillPattern(b, req.seed! + i);
        return b;
      });
      kept.set(req.key ?? 'default', bufs);
      return endpoint.register(bufs.map(cpuTensor));
    }
    case 'registerAgain':
      return endpoint.register(kept.get(req.key ?? 'default')!.map(cpuTensor));
    case 'release':
      await endpoint.release(req.desc!);
      return endpoint.stats();
    case 'stats':
      return endpoint.stats();
    case 'read': {
      const sizes = req.desc!.regions.map((r) => Number(r.size));
      const into = sizes.map((s) => new Uint8Array(s));
      await endpoint.read(req.desc!, into.map(cpuTensor), req.timeoutMs ?? 30_000);
      into.forEach((b, i) => {
        if (!Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(expectedPattern(b.byteLength, req.seed! + i))) {
          throw new Error(`region ${i} differs from the producer's data`);
        }
      });
      return sizes;
    }
    case 'close':
      await endpoint.close();
      setImmediate(() => process.exit(0));
      return null;
  }
}

async function main(): Promise<void> {
  endpoint = (await nixlPlugin.createEndpoint({
    processName: process.argv[2] ?? `peer-${process.pid}`,
    options: {},
    log: () => undefined,
  })) as NixlEndpoint;
  process.on('message', (req: Request) => {
    handle(req).then(
      (value) => process.send!({ rid: req.rid, ok: true, value }),
      (e: Error & { code?: string }) => process.send!({ rid: req.rid, ok: false, error: { message: e.message, code: e.code } }),
    );
  });
  process.send!({ rid: 0, ok: true, value: 'ready' });
}

void main();
