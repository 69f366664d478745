/**
 * nixl's peer commands for CUDA tensors (loaded with nixlCudaPeers()): CUDA tensors are made,
 * changed, read and released in the peer process, on the driver its environment names (the
 * mock through TENSORWIRE_LIBCUDA in the tests).
 */
import '@tensorwire/cuda';
import type { Tensor } from '@tensorwire/core';
import { allocateTensor, makeTensor, type PeerCommands, type TensorSpec } from '@tensorwire/conformance/testing';
import { mock } from '@tensorwire/cuda/testing';
import type { NixlDescriptor } from '../descriptor';
import type { NixlEndpoint } from '../endpoint';
import { allocateCudaTensor, checkAnyTensors, fillCudaTensor, makeCudaTensor } from './cuda-tensors';

type AnyTensor = Tensor | ReturnType<typeof makeTensor>;
const registrations = new Map<number, { desc: NixlDescriptor; tensors: AnyTensor[] }>();
let nextHandle = 1;

const isCuda = (device: string | undefined): device is string => device !== undefined && device !== 'cpu';

export const peerCommands: PeerCommands = {
  /** Registers seeded tensors, each on `devices[i]` ('cpu' or 'cuda:N'): `{ handle, desc }`. */
  async registerDevices(a: { specs: TensorSpec[]; devices: string[] }, ctx) {
    const tensors = a.specs.map((s, i) => (isCuda(a.devices[i]) ? makeCudaTensor(s, a.devices[i]) : makeTensor(s)));
    const desc = await (ctx.endpoint as NixlEndpoint).register(tensors);
    const handle = nextHandle++;
    registrations.set(handle, { desc, tensors });
    return { handle, desc };
  },

  /** Writes new patterns into registered tensors (index -> spec), in place: the registration stays. */
  async mutate(a: { handle: number; changes: { index: number; spec: TensorSpec }[] }) {
    const r = registrations.get(a.handle);
    if (!r) throw new Error(`no registration ${a.handle}`);
    for (const { index, spec } of a.changes) {
      const t = r.tensors[index];
      if (t.device === 'cpu') makeTensor(spec).bytes().forEach((b, k) => (t.bytes()[k] = b));
      else await fillCudaTensor(t as Tensor, spec);
    }
  },

  /**
   * Releases registration `handle`; with `releaseTensors`, also releases its CUDA tensors at once
   * (their blocks must still wait for staging copies in flight). Resolves when release() did.
   */
  async releaseDevices(a: { handle: number; releaseTensors?: boolean }, ctx) {
    const r = registrations.get(a.handle);
    if (!r) return;
    registrations.delete(a.handle);
    const releasing = (ctx.endpoint as NixlEndpoint).release(r.desc);
    if (a.releaseTensors) for (const t of r.tensors) if (t.device !== 'cpu') (t as Tensor).release();
    await releasing;
  },

  /** Reads `desc` into fresh tensors on `devices` (`times` reads at once); `{ ms, problems }`. */
  async readDevices(a: { desc: unknown; specs: TensorSpec[]; devices: string[]; times?: number; timeoutMs: number }, ctx) {
    const times = a.times ?? 1;
    const intos = Array.from({ length: times }, () =>
      a.specs.map((s, i) => (isCuda(a.devices[i]) ? allocateCudaTensor(s, a.devices[i]) : allocateTensor(s))),
    );
    const t0 = performance.now();
    const reads = intos.map((into) => (ctx.endpoint as NixlEndpoint).read(a.desc, into, a.timeoutMs));
    ctx.posted();
    await Promise.all(reads);
    const ms = performance.now() - t0;
    const problems: string[] = [];
    for (const [k, into] of intos.entries()) problems.push(...(await checkAnyTensors(a.specs, into)).map((p) => `read ${k}: ${p}`));
    return { ms, problems };
  },

  /** The mock driver's counters in this peer (pinned allocations, calls...). */
  mockStats() {
    return mock.stats();
  },

  /** Makes every stream operation of the mock in this peer take `us` microseconds longer. */
  mockDelay(a: { us: number }) {
    mock.setDelayUs(a.us);
  },

  /** The allocator's view of device memory in this peer (blocks in use). */
  async deviceMemory() {
    const { memoryStats } = await import('@tensorwire/cuda');
    return memoryStats('cuda:0')[0];
  },
};
