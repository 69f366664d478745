/** The `nixl` transport plugin: NIXL's one-sided transfer model implemented on UCX's UCP API. */
import type { Availability, EndpointContext, TransportPlugin } from '@tensorwire/core';
import { loadAddon } from './addon';
import { NixlEndpoint } from './endpoint';

const FIX = 'apt-get install libucx-dev && npm run build:native -w @tensorwire/nixl';

export const nixlPlugin: TransportPlugin = {
  name: 'nixl',
  supports: { devices: ['cpu'], oneSided: true, needsGroup: false, canAbort: true, registeredPool: true },

  /** Loads the addon and creates (then closes) an agent; never throws. */
  async probe(): Promise<Availability> {
    try {
      const addon = loadAddon();
      const agent = new addon.Agent(`probe-${process.pid}`);
      await agent.close();
      const tls = process.env.UCX_TLS ? `UCX_TLS=${process.env.UCX_TLS}` : 'all UCX transports';
      const hooks = addon.memEvents() === 'no' ? '' : `; warning: UCX_MEM_EVENTS=${addon.memEvents()} (use 'no' under Node)`;
      return { available: true, detail: `UCX ${addon.ucxVersion()} (NIXL model on UCP, no libnixl), ${tls}${hooks}` };
    } catch (e) {
      return { available: false, detail: e instanceof Error ? e.message : String(e), fix: FIX };
    }
  },

  async createEndpoint(ctx: EndpointContext): Promise<NixlEndpoint> {
    const bound = ctx.options.poolCacheBytes;
    return new NixlEndpoint(ctx.processName, typeof bound === 'number' ? { poolCacheBytes: bound } : {});
  },
};
