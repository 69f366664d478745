/** `ncclPlugin`: the TransportPlugin object that `@tensorwire/nccl` registers as 'nccl'. */
import type { Availability, EndpointContext, TwoSidedSupports, TwoSidedTransportPlugin } from '@tensorwire/core';
import { NcclEndpoint } from './endpoint';
import { NCCL_FIX, openNccl, tryOpenNccl, type NcclRuntime } from './library';
import { resolveOptions } from './options';

/** Static capabilities: CUDA tensors and three collectives (NCCL is two-sided: groups, send/recv). */
export const NCCL_SUPPORTS: TwoSidedSupports = Object.freeze({
  devices: Object.freeze(['cuda'] as const),
  collectives: Object.freeze(['barrier', 'allreduce', 'broadcast'] as const),
});

export interface NcclPlugin extends TwoSidedTransportPlugin {
  readonly name: 'nccl';
  createEndpoint(ctx: EndpointContext): Promise<NcclEndpoint>;
}

/** How NCCL was found, for doctor. */
export function describeRuntime(r: NcclRuntime): string {
  const where = r.source === 'Python environment' ? `${r.libraryPath}, found in a Python environment` : r.libraryPath;
  const mock = r.mock ? ', the mock NCCL: it proves the code paths, not NCCL or a GPU' : '';
  return `NCCL ${r.version} (${where}${mock}), CUDA driver ${r.cudaLibraryPath}`;
}

/** Loads the addon, CUDA and NCCL; says what is missing and the fix. Never throws. */
async function probe(): Promise<Availability> {
  try {
    const { runtime, error } = tryOpenNccl();
    if (!runtime) return { available: false, detail: error?.detail ?? 'NCCL could not be opened', fix: error?.fix ?? NCCL_FIX };
    return { available: true, detail: describeRuntime(runtime) };
  } catch (err) {
    return { available: false, detail: `probe failed: ${String((err as Error)?.message ?? err)}`, fix: NCCL_FIX };
  }
}

export const ncclPlugin: NcclPlugin = Object.freeze({
  name: 'nccl' as const,
  kind: 'two-sided' as const,
  supports: NCCL_SUPPORTS,
  probe,
  async createEndpoint(ctx: EndpointContext): Promise<NcclEndpoint> {
    const options = resolveOptions(ctx?.options);
    return new NcclEndpoint(openNccl(), options, ctx);
  },
});
