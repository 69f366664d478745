/**
 * nixl's own peer commands, beside the generic ones of `@tensorwire/conformance/testing` (loaded
 * into each peer process through `PeerOptions.commands`): what only a nixl endpoint reports.
 */
import type { PeerCommands } from '@tensorwire/conformance/testing';
import type { NixlEndpoint } from '../endpoint';

export const peerCommands: PeerCommands = {
  /** The endpoint's stats(): registrations, pool chunks, endpoints, rkeys... */
  stats(_a: unknown, ctx) {
    return (ctx.endpoint as NixlEndpoint).stats();
  },

  /** The UCX_NET_DEVICES list the endpoint's agent uses. */
  netDevices(_a: unknown, ctx) {
    return (ctx.endpoint as NixlEndpoint).netDevices;
  },
};
