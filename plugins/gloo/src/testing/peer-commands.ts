/**
 * Gloo's own peer commands, beside the generic ones of `@tensorwire/conformance/testing` (loaded
 * into each peer process through `PeerOptions.commands`): what only a Gloo group has (its broken
 * state), and calls the generic commands do not make (a device tensor, any dtype string,
 * destroy twice).
 */
import { cpuTensor, fakeDeviceTensor, type PeerCommands, type PeerContext } from '@tensorwire/conformance/testing';
import type { GlooCollectiveGroup } from '../group';

/** Groups that a gloo peer creates are GlooCollectiveGroups (GlooEndpoint.createGroup). */
const glooGroup = (ctx: PeerContext, name: string) => ctx.group(name) as GlooCollectiveGroup;

export const peerCommands: PeerCommands = {
  /** The group's broken state: `{ broken, code, reason }`. */
  status(a: { group: string }, ctx) {
    const g = glooGroup(ctx, a.group);
    return { broken: g.broken, code: g.brokenCode, reason: g.brokenReason };
  },

  /**
   * destroy() twice (the second must be harmless). The group stays known to the peer under its
   * name; createGroup of the same name replaces it.
   */
  async destroyTwice(a: { group: string }, ctx) {
    const g = glooGroup(ctx, a.group);
    await g.destroy();
    await g.destroy();
    return { broken: g.broken, code: g.brokenCode };
  },

  /** send() of a stand-in CUDA tensor (Gloo moves CPU tensors only). */
  async sendDeviceTensor(a: { group: string; dst: number }, ctx) {
    await glooGroup(ctx, a.group).send([fakeDeviceTensor('cuda:0', 4)], a.dst, 1);
  },

  /** allreduce() of `nbytes` zero bytes as `dtype`, any string (for the dtypes Gloo refuses). */
  async allreduceAs(a: { group: string; dtype: string; nbytes: number }, ctx) {
    await glooGroup(ctx, a.group).allreduce(cpuTensor(new Uint8Array(a.nbytes)), a.dtype);
  },
};
