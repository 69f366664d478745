/** `glooPlugin`: the TransportPlugin object that `@tensorwire/gloo` registers as 'gloo'. */
import type { Availability, EndpointContext, TwoSidedSupports, TwoSidedTransportPlugin } from '@tensorwire/core';
import { GlooEndpoint } from './endpoint';
import { GLOO_FIX, loadNative, tryLoadNative } from './native';
import { resolveHost } from './options';

/** Static capabilities: CPU tensors and three collectives (Gloo is two-sided: groups, send/recv). */
export const GLOO_SUPPORTS: TwoSidedSupports = Object.freeze({
  devices: Object.freeze(['cpu'] as const),
  collectives: Object.freeze(['barrier', 'allreduce', 'broadcast'] as const),
});

export interface GlooPlugin extends TwoSidedTransportPlugin {
  readonly name: 'gloo';
  createEndpoint(ctx: EndpointContext): Promise<GlooEndpoint>;
}

/** Checks that the addon loads and a TCP device can be created on the configured host. */
async function probe(): Promise<Availability> {
  try {
    const { binding, error } = tryLoadNative();
    if (!binding) return { available: false, detail: error?.detail ?? 'the native addon failed to load', fix: error?.fix ?? GLOO_FIX };
    let host: string;
    try {
      host = resolveHost(undefined);
    } catch (err) {
      return { available: false, detail: String((err as Error).message ?? err), fix: 'set TENSORWIRE_GLOO_HOST to an IPv4 address of this machine' };
    }
    try {
      binding.probeDevice(host);
    } catch (err) {
      return {
        available: false,
        detail: `libgloo ${binding.glooVersion} loaded, but ${(err as Error).message ?? String(err)}`,
        fix: `set TENSORWIRE_GLOO_HOST (or transportOptions.gloo.host) to an IPv4 address of this machine`,
      };
    }
    return { available: true, detail: `libgloo ${binding.glooVersion}, TCP on ${host}` };
  } catch (err) {
    return { available: false, detail: `probe failed: ${String((err as Error)?.message ?? err)}`, fix: GLOO_FIX };
  }
}

export const glooPlugin: GlooPlugin = Object.freeze({
  name: 'gloo' as const,
  kind: 'two-sided' as const,
  supports: GLOO_SUPPORTS,
  probe,
  async createEndpoint(ctx: EndpointContext): Promise<GlooEndpoint> {
    const binding = loadNative();
    const host = resolveHost(ctx?.options);
    return new GlooEndpoint(binding, host, ctx);
  },
});
