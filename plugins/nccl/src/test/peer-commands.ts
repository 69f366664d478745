/**
 * NCCL's own peer commands, beside the generic ones of `@tensorwire/conformance/testing` (loaded
 * into each peer process through `PeerOptions.commands`): transfers and collectives of CUDA
 * tensors (the generic commands make CPU tensors), a group's broken state, tensors NCCL refuses,
 * and what the mocks report.
 */
import { Tensor } from '@tensorwire/core';
import { cpuTensor, type PeerCommands, type PeerContext, type TransferSpec, type TensorSpec } from '@tensorwire/conformance/testing';
import type { NcclCollectiveGroup } from '../group';
import { bytesOf, checkDeviceTensor, deviceBytes, deviceTensorOf, emptyDeviceTensor } from './device-tensors';

const ncclGroup = (ctx: PeerContext, name: string) => ctx.group(name) as NcclCollectiveGroup;

export const peerCommands: PeerCommands = {
  /** The group's broken state: `{ broken, code, reason, pending }`. */
  status(a: { group: string }, ctx) {
    const g = ncclGroup(ctx, a.group);
    return { broken: g.broken, code: g.brokenCode, reason: g.brokenReason, pending: g.pending };
  },

  /** Every transfer's send posted at once (CUDA tensors); `{ ms }`. */
  async cudaSend(a: { group: string; dst: number; transfers: TransferSpec[]; device?: string }, ctx) {
    const g = ncclGroup(ctx, a.group);
    const device = a.device ?? g.device;
    const built = await Promise.all(a.transfers.map(async (tr) => ({ tag: tr.tag, tensors: await Promise.all(tr.tensors.map((s) => deviceTensorOf(s, device))) })));
    const t0 = performance.now();
    const ps = built.map((tr) => g.send(tr.tensors, a.dst, tr.tag));
    ctx.posted();
    await Promise.all(ps);
    return { ms: performance.now() - t0 };
  },

  /** Every transfer's recv posted at once, then every byte checked: `{ ms, problems }`. */
  async cudaRecv(a: { group: string; src: number; transfers: TransferSpec[] }, ctx) {
    const g = ncclGroup(ctx, a.group);
    const built = a.transfers.map((tr) => ({ tag: tr.tag, specs: tr.tensors, into: tr.tensors.map((s) => emptyDeviceTensor(s, g.device)) }));
    const t0 = performance.now();
    const ps = built.map((tr) => g.recv(tr.into, a.src, tr.tag));
    ctx.posted();
    await Promise.all(ps);
    const ms = performance.now() - t0;
    const problems: string[] = [];
    for (const tr of built) {
      for (let i = 0; i < tr.specs.length; i++) problems.push(...(await checkDeviceTensor(tr.specs[i], tr.into[i], `tag ${tr.tag} tensor ${i}`)));
    }
    return { ms, problems };
  },

  /** In-place allreduce of `bytes` as `dtype` with `op`; returns the bytes afterwards. */
  async cudaAllreduce(a: { group: string; bytes: number[]; dtype: string; op?: 'sum' | 'prod' | 'min' | 'max' }, ctx) {
    const g = ncclGroup(ctx, a.group);
    const t = await deviceBytes(a.bytes, g.device);
    const p = g.allreduce(t, a.dtype, a.op ?? 'sum');
    ctx.posted();
    await p;
    return bytesOf(t);
  },

  /** Broadcast of `spec` from `root`; every rank checks what it holds afterwards: `{ problems }`. */
  async cudaBroadcast(a: { group: string; root: number; spec: TensorSpec }, ctx) {
    const g = ncclGroup(ctx, a.group);
    const t = g.rank === a.root ? await deviceTensorOf(a.spec, g.device) : emptyDeviceTensor(a.spec, g.device);
    const p = g.broadcast(t, a.root);
    ctx.posted();
    await p;
    return { problems: await checkDeviceTensor(a.spec, t, 'broadcast') };
  },

  /** send() of a CPU tensor (NCCL moves CUDA tensors only). */
  async sendCpuTensor(a: { group: string; dst: number }, ctx) {
    await ncclGroup(ctx, a.group).send([cpuTensor(new Uint8Array(8))], a.dst, 1);
  },

  /** send() of a CUDA tensor on another device than the group's. */
  async sendOnDevice(a: { group: string; dst: number; device: string }, ctx) {
    await ncclGroup(ctx, a.group).send([Tensor.zeros([4], { dtype: 'uint8', device: a.device })], a.dst, 1);
  },

  /** destroy() twice (the second must be harmless). */
  async destroyTwice(a: { group: string }, ctx) {
    const g = ncclGroup(ctx, a.group);
    await g.destroy();
    await g.destroy();
    return { broken: g.broken, code: g.brokenCode };
  },

  /** NCCL_* variables of this process (what the shared-GPU logic set). */
  ncclEnv() {
    return Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('NCCL_')));
  },

  /** The mock CUDA driver's live resources in this process. */
  async mockCuda() {
    const { mock } = await import('@tensorwire/cuda/testing');
    const s = mock.stats();
    return { allocations: s.allocations, streams: s.streams, events: s.events };
  },
};
