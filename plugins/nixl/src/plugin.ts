/** The `nixl` transport plugin: NIXL's one-sided transfer model implemented on UCX's UCP API. */
import type { Availability, EndpointContext, OneSidedTransportPlugin } from '@tensorwire/core';
import { NixlEndpoint } from './endpoint';
import { loadNative, NIXL_FIX, NixlUnavailableError } from './native';
import { describeNetDevices, LOOPBACK_NET_DEVICES, resolveNetDevices } from './network';
import { endpointOptions } from './options';

export const nixlPlugin: OneSidedTransportPlugin = {
  name: 'nixl',
  kind: 'one-sided',
  supports: { devices: ['cpu', 'cuda'], registeredPool: true, selectRegions: true },

  /** Loads the addon and creates (then closes) an agent; never throws. */
  async probe(): Promise<Availability> {
    try {
      const addon = loadNative();
      const agent = new addon.Agent(`probe-${process.pid}`, { netDevices: resolveNetDevices().devices });
      const network = describeNetDevices(agent.netDevices);
      await agent.close();
      const tls = process.env.UCX_TLS ? `UCX_TLS=${process.env.UCX_TLS}` : 'all UCX transports';
      const hooks = addon.memEvents() === 'no' ? '' : `; warning: UCX_MEM_EVENTS=${addon.memEvents()} (use 'no' under Node)`;
      return { available: true, detail: `UCX ${addon.ucxVersion()} (NIXL model on UCP, no libnixl), ${tls}, ${network}${hooks}` };
    } catch (e) {
      if (e instanceof NixlUnavailableError) return { available: false, detail: e.detail, fix: e.fix };
      const badHost = (e as { code?: string }).code === 'ERR_INVALID_ARG_VALUE';
      const fix = badHost ? 'set TENSORWIRE_NIXL_HOST to an IP address of this machine, or unset it (loopback only)' : NIXL_FIX;
      return { available: false, detail: e instanceof Error ? e.message : String(e), fix };
    }
  },

  async createEndpoint(ctx: EndpointContext): Promise<NixlEndpoint> {
    const options = endpointOptions(ctx.options);
    const choice = resolveNetDevices(options as Readonly<Record<string, unknown>>);
    if (choice.source === 'UCX_NET_DEVICES' && (options.host !== undefined || options.netDevices !== undefined)) {
      ctx.log('warn', `nixl: UCX_NET_DEVICES=${choice.devices} is set, so transportOptions.nixl host/netDevices are ignored`);
    }
    const endpoint = new NixlEndpoint(ctx.processName, options);
    ctx.log(endpoint.netDevices === LOOPBACK_NET_DEVICES ? 'debug' : 'info', `nixl: ${describeNetDevices(endpoint.netDevices)} (from ${choice.source})`);
    return endpoint;
  },
};
