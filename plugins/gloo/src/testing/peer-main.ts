/**
 * A test peer: a plain Node process (forked by the tests) that loads @tensorwire/gloo, joins
 * groups through the parent's IPC rendezvous, and runs the commands the parent sends.
 */
import { createHash, randomFillSync } from 'node:crypto';
import type { GlooCollectiveGroup } from '../group';
import type { GlooEndpoint } from '../endpoint';
import { glooPlugin } from '../plugin';
import { ipcRendezvousStore } from '../ipc-rendezvous';
import type { BufferSpec, CommandMessage, CommandReply, OpOutcome } from './protocol';
import { TestTensor, makeTyped, type TestDtype } from './test-tensor';

const store = ipcRendezvousStore();
let endpoint: GlooEndpoint | undefined;
const groups = new Map<string, GlooCollectiveGroup>();
const ops = new Map<number, Promise<OpOutcome>>();
let nextOp = 0;

function group(name: unknown): GlooCollectiveGroup {
  const g = groups.get(String(name));
  if (!g) throw new Error(`no group '${String(name)}' in this peer`);
  return g;
}

/**
 * Random bytes that are never 0 (so a receive buffer that starts zeroed shows any byte that was
 * not written). Per-byte generation of 256 MiB takes seconds on a small VM, so a random block of
 * a non-power-of-two length is generated and tiled, each tile rotated differently.
 */
const BLOCK = 4 * 1024 * 1024 + 1021;
function randomNonZero(view: ArrayBufferView): void {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const block = new Uint8Array(Math.min(BLOCK, bytes.length) * 2);
  randomFillSync(block, 0, block.length / 2);
  for (let i = 0; i < block.length / 2; i++) if (block[i] === 0) block[i] = 1 + (i % 255);
  block.copyWithin(block.length / 2, 0, block.length / 2); // doubled: any rotation is one slice
  const n = block.length / 2;
  for (let off = 0, k = 0; off < bytes.length; off += n, k++) {
    const rot = (k * 104729) % n;
    const len = Math.min(n, bytes.length - off);
    bytes.set(block.subarray(rot, rot + len), off);
  }
}

function digest(view: ArrayBufferView): string {
  return createHash('sha256').update(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)).digest('hex');
}

function hasZero(view: ArrayBufferView): boolean {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  return bytes.indexOf(0) !== -1;
}

function tensorsFor(specs: BufferSpec[]): { views: ArrayBufferView[]; tensors: TestTensor[] } {
  const views = specs.map((s) => makeTyped(s.dtype, s.length));
  return { views, tensors: views.map((v) => new TestTensor(v)) };
}

function outcome(p: Promise<unknown>): Promise<OpOutcome> {
  return p.then(
    () => ({ ok: true }),
    (err: Error & { code?: string }) => ({ ok: false, code: err.code, message: err.message }),
  );
}

type Handler = (args: Record<string, unknown>) => Promise<unknown> | unknown;

const handlers: Record<string, Handler> = {
  async create(a) {
    endpoint ??= await glooPlugin.createEndpoint({ processName: `peer-${process.pid}`, options: {}, log: () => {} });
    const g = await endpoint.createGlooGroup({
      name: String(a.name),
      rank: Number(a.rank),
      worldSize: Number(a.size),
      rendezvous: store,
      timeoutMs: Number(a.timeoutMs ?? 20000),
    });
    groups.set(String(a.name), g);
    return { rank: g.rank, worldSize: g.worldSize };
  },
  async destroy(a) {
    const g = group(a.name);
    await g.destroy();
    await g.destroy(); // twice: must be harmless
    groups.delete(String(a.name));
    return { broken: g.broken, code: g.brokenCode };
  },
  async sendRandom(a) {
    const { views, tensors } = tensorsFor(a.buffers as BufferSpec[]);
    views.forEach(randomNonZero);
    const digests = views.map(digest);
    await group(a.name).send(tensors, Number(a.peer), Number(a.tag));
    return digests;
  },
  async recvCheck(a) {
    const { views, tensors } = tensorsFor(a.buffers as BufferSpec[]);
    await group(a.name).recv(tensors, Number(a.peer), Number(a.tag));
    return views.map((v) => ({ digest: digest(v), zeroFree: v.byteLength === 0 || !hasZero(v) }));
  },
  async flood(a) {
    // `count` recvs (posted first: a waiting recv must not hold up the sends) and `count` sends,
    // all in flight at once, with distinct tags per direction.
    const g = group(a.name);
    const count = Number(a.count);
    const size = Number(a.size);
    const peer = Number(a.peer);
    const recvs: Promise<void>[] = [];
    const sends: Promise<void>[] = [];
    const inbox: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const buf = new Uint8Array(size);
      inbox.push(buf);
      recvs.push(g.recvBytes([buf], peer, Number(a.recvBase) + i));
    }
    for (let i = 0; i < count; i++) {
      const buf = new Uint8Array(size).fill(1 + ((i * 7 + Number(a.sendBase)) % 254));
      sends.push(g.sendBytes([buf], peer, Number(a.sendBase) + i));
    }
    await Promise.all([...sends, ...recvs]);
    const bad = inbox.findIndex((buf, i) => buf.some((b) => b !== 1 + ((i * 7 + Number(a.recvBase)) % 254)));
    if (bad !== -1) throw new Error(`flood: transfer ${bad} received wrong bytes`);
    return { transfers: count * 2 };
  },
  async barrier(a) {
    await group(a.name).barrier();
    return true;
  },
  async allreduce(a) {
    const dtype = String(a.dtype) as TestDtype;
    const values = a.values as (number | string)[];
    const view = makeTyped(dtype, values.length) as unknown as { [i: number]: number | bigint; length: number };
    values.forEach((v, i) => (view[i] = dtype === 'int64' ? BigInt(v) : Number(v)));
    await group(a.name).allreduce(new TestTensor(view as unknown as ArrayBufferView), dtype, a.op as 'sum');
    return Array.from({ length: view.length }, (_, i) => (typeof view[i] === 'bigint' ? String(view[i]) : view[i]));
  },
  async broadcast(a) {
    const view = new Float64Array((a.values as number[]).length);
    if (a.fill) view.set(a.values as number[]);
    await group(a.name).broadcast(new TestTensor(view), Number(a.root));
    return Array.from(view);
  },
  start(a) {
    // Start a send/recv and return at once; 'await' collects the outcome later.
    const g = group(a.name);
    const view = new Uint8Array(Number(a.size));
    if (a.op === 'send') randomNonZero(view);
    const p = a.op === 'send' ? g.sendBytes([view], Number(a.peer), Number(a.tag)) : g.recvBytes([view], Number(a.peer), Number(a.tag));
    const id = ++nextOp;
    ops.set(id, outcome(p));
    return id;
  },
  async await(a) {
    const p = ops.get(Number(a.op));
    if (!p) throw new Error(`no op ${String(a.op)}`);
    return p;
  },
  async attempt(a) {
    // Run one call and report its outcome (ok or error code/message) instead of failing.
    const g = group(a.name);
    const buf = new Uint8Array(Number(a.size ?? 4));
    switch (a.what) {
      case 'send': return outcome(g.sendBytes([buf], Number(a.peer), Number(a.tag ?? 1)));
      case 'recv': return outcome(g.recvBytes([buf], Number(a.peer), Number(a.tag ?? 1)));
      case 'sendCuda': return outcome(g.send([new TestTensor(buf, 'cuda:0')], Number(a.peer), 1));
      case 'barrier': return outcome(g.barrier());
      case 'badTag': return outcome(g.sendBytes([buf], Number(a.peer), -1));
      case 'badDtype': return outcome(g.allreduce(new TestTensor(buf), 'complex128'));
      default: throw new Error(`unknown attempt ${String(a.what)}`);
    }
  },
  async createExpectError(a) {
    endpoint ??= await glooPlugin.createEndpoint({ processName: 'peer', options: {}, log: () => {} });
    return outcome(endpoint.createGroup({ name: String(a.name), rank: Number(a.rank), worldSize: Number(a.size), rendezvous: store, timeoutMs: 2000 }));
  },
  abort(a) {
    const t0 = Date.now();
    group(a.name).abort(String(a.reason));
    return { returnedAfterMs: Date.now() - t0 };
  },
  status(a) {
    const g = group(a.name);
    return { broken: g.broken, code: g.brokenCode, reason: g.brokenReason };
  },
  exitSoon(a) {
    // Leave groups (and possibly a pending recv) alive and exit: must not crash.
    if (a.pendingRecv) {
      const g = group(a.name);
      void g.recvBytes([new Uint8Array(16)], Number(a.peer), 424242).catch(() => {});
    }
    setTimeout(() => {
      if (a.natural) {
        // Natural exit: drop the IPC channel; nothing else should keep the loop alive.
        process.disconnect();
      } else {
        process.exit(0);
      }
    }, 50);
    return true;
  },
};

process.on('message', (m: CommandMessage) => {
  if (m?.kind !== 'tw-cmd') return;
  const reply = (r: Omit<CommandReply, 'kind' | 'id'>) => process.connected && process.send!({ kind: 'tw-cmd-reply', id: m.id, ...r });
  Promise.resolve()
    .then(() => {
      const h = handlers[m.name];
      if (!h) throw new Error(`unknown command ${m.name}`);
      return h(m.args);
    })
    .then(
      (value) => reply({ ok: true, value }),
      (err: Error & { code?: string }) => reply({ ok: false, error: { code: err.code ?? 'ERR', message: err.message } }),
    );
});

process.send!({ kind: 'tw-peer-ready', pid: process.pid });
