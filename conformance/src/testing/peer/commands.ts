/**
 * The generic peer commands: each is one SPI operation (or a few) on this peer's endpoint, with
 * tensors built from seeds and received bytes checked here, so that tensor bytes never cross IPC.
 * Commands whose transport operation may be watched while it runs call `posted()` once its
 * Promise exists (the test process then kills or aborts "during" it).
 */
import type { TransportTensor } from '@tensorwire/core';
import { isTestDtype, typedArrayOf, valuesOf, type DtypeValue } from '../dtypes';
import { cudaCore, CudaTestTensor } from '../cuda-tensors';
import { allocateTensor, checkTensors, CpuTestTensor, makeTensor, type CheckResult, type TensorSpec } from '../tensor-spec';
import type { PeerCommand } from './command-api';
import type { PeerState } from './peer-state';
import type { TransferSpec } from './protocol';
import { rendezvousFor } from './rendezvous-client';

/** Gives device test tensors' memory back now (256 MiB ones must not wait for the collector). */
function dispose(tensors: Iterable<TransportTensor>): void {
  for (const t of tensors) if (t instanceof CudaTestTensor) t.release();
}

/** Registrations (one-sided) by handle: their tensors stay alive here until released. */
interface Registration {
  readonly desc: unknown;
  readonly tensors: readonly TransportTensor[];
}

/** The generic commands of a peer whose state is `state`. */
export function genericCommands(state: PeerState): Record<string, PeerCommand> {
  const registrations = new Map<number, Registration>();
  let nextRegistration = 1;
  /** Pool memory from endpoint.allocate, kept alive for the peer's lifetime. */
  const pools: Uint8Array[] = [];

  const keep = (desc: unknown, tensors: readonly TransportTensor[]) => {
    const handle = nextRegistration++;
    registrations.set(handle, { desc, tensors });
    return { handle, desc };
  };

  const registration = (handle: number): Registration => {
    const r = registrations.get(handle);
    if (!r) throw new Error(`${state.processName}: no registration ${handle}`);
    return r;
  };

  return {
    async ping() {
      return process.pid;
    },

    async createGroup(a: { group: string; rank: number; worldSize: number; timeoutMs: number }, ctx) {
      const p = state.twoSided().createGroup({
        name: a.group,
        rank: a.rank,
        worldSize: a.worldSize,
        rendezvous: rendezvousFor(a.group),
        timeoutMs: a.timeoutMs,
      });
      ctx.posted();
      const g = await p;
      if (g.rank !== a.rank || g.worldSize !== a.worldSize) {
        throw new Error(`group reports rank ${g.rank}/${g.worldSize}, created as ${a.rank}/${a.worldSize}`);
      }
      state.groups.set(a.group, g);
      return { name: g.name, rank: g.rank, worldSize: g.worldSize };
    },

    async destroyGroup(a: { group: string }) {
      const g = state.group(a.group);
      state.groups.delete(a.group);
      await g.destroy();
    },

    /** abort() must return at once (it never blocks): says how long it took. */
    async abortGroup(a: { group: string; reason: string }) {
      const t0 = performance.now();
      state.group(a.group).abort(a.reason);
      return { returnedAfterMs: performance.now() - t0 };
    },

    async barrier(a: { group: string }) {
      await state.group(a.group).barrier();
    },

    /** Every transfer's send is posted at once: `transfers.length` sends in flight. */
    async send(a: { group: string; dst: number; transfers: TransferSpec[] }, ctx) {
      const g = state.group(a.group);
      const built = a.transfers.map((tr) => ({ tag: tr.tag, tensors: tr.tensors.map((s) => makeTensor(s)) }));
      const t0 = performance.now();
      const ps = built.map((tr) => g.send(tr.tensors, a.dst, tr.tag));
      ctx.posted();
      await Promise.all(ps);
      const ms = performance.now() - t0;
      dispose(built.flatMap((tr) => tr.tensors));
      return { ms };
    },

    /** Posts every transfer's recv at once, then checks every byte: `{ ms, problems }` (none: all arrived). */
    async recv(a: { group: string; src: number; transfers: TransferSpec[] }, ctx) {
      const g = state.group(a.group);
      const built = a.transfers.map((tr) => ({ tag: tr.tag, specs: tr.tensors, into: tr.tensors.map((s) => allocateTensor(s)) }));
      const t0 = performance.now();
      const ps = built.map((tr) => g.recv(tr.into, a.src, tr.tag));
      ctx.posted();
      await Promise.all(ps);
      const ms = performance.now() - t0;
      const checks: CheckResult[] = built.map((tr) => checkTensors(tr.specs, tr.into));
      dispose(built.flatMap((tr) => tr.into));
      return { ms, problems: checks.flatMap((c, i) => c.problems.map((p) => `tag ${built[i].tag}: ${p}`)) };
    },

    /**
     * In-place allreduce of `values` as `dtype` (default float32, sum), on `device` (default the
     * CPU); returns the result (int64 as strings).
     */
    async allreduce(a: { group: string; values: DtypeValue[]; dtype?: string; op?: 'sum' | 'prod' | 'min' | 'max'; device?: string }) {
      const g = state.group(a.group);
      if (!g.allreduce) throw new Error('the group has no allreduce()');
      const dtype = a.dtype ?? 'float32';
      if (!isTestDtype(dtype)) throw new Error(`no test dtype '${dtype}'`);
      const data = typedArrayOf(dtype, a.values);
      const host = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      if (a.device === undefined || a.device === 'cpu') {
        await g.allreduce(new CpuTestTensor(data), dtype, a.op ?? 'sum');
        return valuesOf(data);
      }
      const { Tensor } = cudaCore();
      const onDevice = Tensor.fromBytes(host, 'uint8', [host.byteLength]).to(a.device);
      await g.allreduce(new CudaTestTensor(onDevice, 0, host.byteLength), dtype, a.op ?? 'sum');
      host.set(onDevice.cpu().bytes());
      onDevice.release();
      return valuesOf(data);
    },

    /** Broadcast of a seeded tensor from `root`; every rank checks what it holds afterwards. */
    async broadcast(a: { group: string; root: number; spec: TensorSpec }) {
      const g = state.group(a.group);
      if (!g.broadcast) throw new Error('the group has no broadcast()');
      const t = g.rank === a.root ? makeTensor(a.spec) : allocateTensor(a.spec);
      await g.broadcast(t, a.root);
      const check = checkTensors([a.spec], [t]);
      dispose([t]);
      return check;
    },

    /** Registers seeded tensors (in pool memory from `allocate` with `pool`): `{ handle, desc }`. */
    async register(a: { specs: TensorSpec[]; pool?: boolean }) {
      const tensors = a.specs.map((s) => {
        if (!a.pool) return makeTensor(s);
        const nbytes = ((s.offsetElements ?? 0) + s.numel) * s.elementSize;
        const mem = state.allocate(nbytes);
        if (!(mem instanceof Uint8Array) || mem.byteLength < nbytes) {
          throw new Error(`allocate(${nbytes}) returned ${mem instanceof Uint8Array ? `${mem.byteLength} bytes` : String(mem)}`);
        }
        pools.push(mem);
        return makeTensor(s, mem);
      });
      return keep(await state.oneSided().register(tensors), tensors);
    },

    /** Registers the very tensors of registration `handle` once more: a second `{ handle, desc }`. */
    async registerAgain(a: { handle: number }) {
      const { tensors } = registration(a.handle);
      return keep(await state.oneSided().register(tensors), tensors);
    },

    /** Releases registration `handle` (and lets its tensors go), or any descriptor `desc` as it is. */
    async release(a: { handle: number } | { desc: unknown }) {
      if ('desc' in a) return void (await state.oneSided().release(a.desc));
      const r = registration(a.handle);
      registrations.delete(a.handle);
      await state.oneSided().release(r.desc);
      // Another registration of the very tensors (registerAgain) keeps them.
      if (![...registrations.values()].some((o) => o.tensors === r.tensors)) dispose(r.tensors);
    },

    /** Reads `desc` into fresh tensors (`times` reads at once) and checks every byte: `{ ms, problems }`. */
    async read(a: { desc: unknown; specs: TensorSpec[]; times?: number; timeoutMs: number }, ctx) {
      const times = a.times ?? 1;
      const intos = Array.from({ length: times }, () => a.specs.map((s) => allocateTensor(s)));
      const t0 = performance.now();
      const ps = intos.map((into) => state.oneSided().read(a.desc, into, a.timeoutMs));
      ctx.posted();
      await Promise.all(ps);
      const ms = performance.now() - t0;
      const problems = intos.flatMap((into, k) => checkTensors(a.specs, into).problems.map((p) => `read ${k}: ${p}`));
      dispose(intos.flat());
      return { ms, problems };
    },

    /** Pool memory: is it writable and of the size asked for? */
    async allocate(a: { nbytes: number }) {
      const mem = state.allocate(a.nbytes);
      pools.push(mem);
      mem.fill(7);
      return { byteLength: mem.byteLength, allSeven: mem.every((b) => b === 7) };
    },

    async close() {
      const e = state.endpointValue;
      state.endpointValue = undefined;
      await e?.close();
    },
  };
}
