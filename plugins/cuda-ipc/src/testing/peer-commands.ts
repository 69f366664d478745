/**
 * cuda-ipc's own peer commands, beside the generic ones of `@tensorwire/conformance/testing`
 * (loaded into each peer process through `PeerOptions.commands`): what only a cuda-ipc endpoint
 * reports.
 */
import type { PeerCommands } from '@tensorwire/conformance/testing';
import type { CudaIpcEndpoint } from '../endpoint';

export const peerCommands: PeerCommands = {
  /** The endpoint's stats(): registrations, opened allocations, reads... */
  stats(_a: unknown, ctx) {
    return (ctx.endpoint as CudaIpcEndpoint).stats();
  },
};
