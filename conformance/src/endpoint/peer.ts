/**
 * The generic peer process of the endpoint-level tests. The suite forks two (or more) of these;
 * each loads the transport module under test (which registers its plugin), creates one endpoint
 * through the SPI and runs the commands the suite sends over IPC. The rendezvous store is served
 * by the parent, as core serves it in the runtime.
 */
import type {
  CollectiveGroup,
  RendezvousStore,
  TransportEndpoint,
  OneSidedEndpoint,
  TwoSidedEndpoint,
  TransportPlugin,
} from '@tensorwire/core';
import { allocateTensor, checkTensors, CpuTestTensor, makeTensor, type CheckResult, type TensorSpec } from '../data/tensor-spec';
import { serializeError, type ChildMessage, type InitArgs, type ParentMessage, type TransferSpec } from './protocol';

const send = (m: ChildMessage): void => {
  process.send?.(m);
};

let plugin: TransportPlugin | undefined;
let endpoint: TransportEndpoint | undefined;
let processName = 'peer';
const groups = new Map<string, CollectiveGroup>();
/** Registrations (one-sided): the tensors are kept alive here until released. */
const registrations = new Map<number, { desc: unknown; tensors: CpuTestTensor[] }>();
let nextRegistration = 1;
/** Pool memory from endpoint.allocate, kept alive for the peer's lifetime. */
const pools: Uint8Array[] = [];

// ---- rendezvous, proxied to the parent ----
let nextRid = 1;
const rdvPending = new Map<number, { resolve: (v?: Uint8Array) => void; reject: (e: Error) => void }>();

function rdvCall(msg: Omit<Extract<ChildMessage, { kind: 'rdv' }>, 'rid' | 'kind'>): Promise<Uint8Array | undefined> {
  const rid = nextRid++;
  return new Promise((resolve, reject) => {
    rdvPending.set(rid, { resolve, reject });
    send({ kind: 'rdv', rid, ...msg } as ChildMessage);
  });
}

function rendezvousFor(group: string): RendezvousStore {
  return {
    set: async (key, value) => {
      await rdvCall({ op: 'set', group, key, value: new Uint8Array(value) } as never);
    },
    get: async (key, timeoutMs) => (await rdvCall({ op: 'get', group, key, timeoutMs } as never))!,
    wait: async (keys, timeoutMs) => {
      await rdvCall({ op: 'wait', group, keys: [...keys], timeoutMs } as never);
    },
  };
}

// ---- commands ----
function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`${processName}: ${what}`);
  return v;
}

function ep(): TransportEndpoint {
  return need(endpoint, 'no endpoint (init first)');
}

function group(name: string): CollectiveGroup {
  return need(groups.get(name), `no group '${name}'`);
}

/** The endpoint as the kind its plugin declares (the SPI's discriminant), or an error saying it is not. */
function twoSided(): TwoSidedEndpoint {
  const e = ep();
  if (e.kind !== 'two-sided') throw new Error(`the endpoint's kind is '${String(e.kind)}', not 'two-sided'`);
  return e;
}

function oneSided(): OneSidedEndpoint {
  const e = ep();
  if (e.kind !== 'one-sided') throw new Error(`the endpoint's kind is '${String(e.kind)}', not 'one-sided'`);
  return e;
}

function allocate(nbytes: number): Uint8Array {
  const e = oneSided();
  if (typeof e.allocate !== 'function') throw new Error('the endpoint has no allocate()');
  return e.allocate(nbytes);
}

type Handler = (args: any, posted: () => void) => Promise<unknown>;

const handlers: Record<string, Handler> = {
  async init(a: InitArgs) {
    processName = a.processName;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const core = require('@tensorwire/core') as typeof import('@tensorwire/core');
    require(a.module);
    plugin = core.getTransport(a.name).plugin;
    const availability = await plugin.probe();
    if (!availability.available) return { pid: process.pid, availability };
    endpoint = await plugin.createEndpoint({
      processName: a.processName,
      options: a.options,
      log: (level, message) => send({ kind: 'log', level, message }),
    });
    if (endpoint.kind !== plugin.kind) {
      throw new Error(`createEndpoint() returned an endpoint of kind '${String(endpoint.kind)}' for a plugin of kind '${plugin.kind}'`);
    }
    return { pid: process.pid, availability };
  },

  async ping() {
    return process.pid;
  },

  async createGroup(a: { group: string; rank: number; worldSize: number; timeoutMs: number }, posted) {
    const p = twoSided().createGroup({
      name: a.group,
      rank: a.rank,
      worldSize: a.worldSize,
      rendezvous: rendezvousFor(a.group),
      timeoutMs: a.timeoutMs,
    });
    posted();
    const g = await p;
    if (g.rank !== a.rank || g.worldSize !== a.worldSize) {
      throw new Error(`group reports rank ${g.rank}/${g.worldSize}, created as ${a.rank}/${a.worldSize}`);
    }
    groups.set(a.group, g);
    return { name: g.name, rank: g.rank, worldSize: g.worldSize };
  },

  async destroyGroup(a: { group: string }) {
    const g = group(a.group);
    groups.delete(a.group);
    await g.destroy();
  },

  async abortGroup(a: { group: string; reason: string }) {
    group(a.group).abort(a.reason);
  },

  async barrier(a: { group: string }) {
    await group(a.group).barrier();
  },

  async send(a: { group: string; dst: number; transfers: TransferSpec[] }, posted) {
    const g = group(a.group);
    const built = a.transfers.map((tr) => ({ tag: tr.tag, tensors: tr.tensors.map((s) => makeTensor(s)) }));
    const t0 = performance.now();
    const ps = built.map((tr) => g.send(tr.tensors, a.dst, tr.tag));
    posted();
    await Promise.all(ps);
    return { ms: performance.now() - t0 };
  },

  async recv(a: { group: string; src: number; transfers: TransferSpec[] }, posted) {
    const g = group(a.group);
    const built = a.transfers.map((tr) => ({ tag: tr.tag, specs: tr.tensors, into: tr.tensors.map((s) => allocateTensor(s)) }));
    const t0 = performance.now();
    const ps = built.map((tr) => g.recv(tr.into, a.src, tr.tag));
    posted();
    await Promise.all(ps);
    const ms = performance.now() - t0;
    const checks: CheckResult[] = built.map((tr) => checkTensors(tr.specs, tr.into));
    return { ms, problems: checks.flatMap((c, i) => c.problems.map((p) => `tag ${built[i].tag}: ${p}`)) };
  },

  async allreduce(a: { group: string; values: number[] }) {
    const g = group(a.group);
    if (!g.allreduce) throw new Error('the group has no allreduce()');
    const data = new Float32Array(a.values);
    await g.allreduce(new CpuTestTensor(data), 'float32', 'sum');
    return Array.from(data);
  },

  async broadcast(a: { group: string; root: number; spec: TensorSpec }) {
    const g = group(a.group);
    if (!g.broadcast) throw new Error('the group has no broadcast()');
    const t = g.rank === a.root ? makeTensor(a.spec) : allocateTensor(a.spec);
    await g.broadcast(t, a.root);
    return checkTensors([a.spec], [t]);
  },

  async register(a: { specs: TensorSpec[]; pool?: boolean }) {
    const tensors = a.specs.map((s) => {
      if (!a.pool) return makeTensor(s);
      const nbytes = ((s.offsetElements ?? 0) + s.numel) * s.elementSize;
      const mem = allocate(nbytes);
      if (!(mem instanceof Uint8Array) || mem.byteLength < nbytes) {
        throw new Error(`allocate(${nbytes}) returned ${mem instanceof Uint8Array ? `${mem.byteLength} bytes` : String(mem)}`);
      }
      pools.push(mem);
      return makeTensor(s, mem);
    });
    const desc = await oneSided().register(tensors);
    const handle = nextRegistration++;
    registrations.set(handle, { desc, tensors });
    return { handle, desc };
  },

  async release(a: { handle: number }) {
    const r = need(registrations.get(a.handle), `no registration ${a.handle}`);
    registrations.delete(a.handle);
    await oneSided().release(r.desc);
  },

  async read(a: { desc: unknown; specs: TensorSpec[]; times?: number; timeoutMs: number }, posted) {
    const times = a.times ?? 1;
    const intos = Array.from({ length: times }, () => a.specs.map((s) => allocateTensor(s)));
    const t0 = performance.now();
    const ps = intos.map((into) => oneSided().read(a.desc, into, a.timeoutMs));
    posted();
    await Promise.all(ps);
    const ms = performance.now() - t0;
    const problems = intos.flatMap((into, k) => checkTensors(a.specs, into).problems.map((p) => `read ${k}: ${p}`));
    return { ms, problems };
  },

  async allocate(a: { nbytes: number }) {
    const mem = allocate(a.nbytes);
    pools.push(mem);
    // Writable and of the right size?
    mem.fill(7);
    return { byteLength: mem.byteLength, allSeven: mem.every((b) => b === 7) };
  },

  async close() {
    const e = endpoint;
    endpoint = undefined;
    await e?.close();
  },
};

process.on('message', (m: ParentMessage) => {
  if (m.kind === 'rdv-reply') {
    const p = rdvPending.get(m.rid);
    rdvPending.delete(m.rid);
    if (!p) return;
    if (m.ok) p.resolve(m.value);
    else p.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
    return;
  }
  if (m.kind !== 'call') return;
  const h = handlers[m.cmd];
  const run = async () => {
    if (!h) throw new Error(`unknown peer command '${m.cmd}'`);
    return h(m.args, () => send({ kind: 'posted', id: m.id }));
  };
  run().then(
    (value) => send({ kind: 'reply', id: m.id, ok: true, value }),
    (e) => send({ kind: 'reply', id: m.id, ok: false, error: serializeError(e) }),
  );
});

// The parent going away must not leave peers behind.
process.on('disconnect', () => process.exit(0));
