/**
 * @tensorwire/nixl: a one-sided tensor transport that follows NIXL's transfer model (agents,
 * registered memory, serializable descriptors, one-sided reads) implemented directly on UCX's
 * UCP API. It does not link libnixl. Importing this module registers the 'nixl' transport.
 */
import { registerTransport } from '@tensorwire/core';
import { nixlPlugin } from './plugin';

registerTransport(nixlPlugin, { module: __filename });

// 'nixl' becomes a tensor transport name for the compiler too: `tensorTransport: 'nixl'`
// compiles once this package is imported.
declare module '@tensorwire/core' {
  interface TensorTransports {
    nixl: true;
  }
}

export { nixlPlugin };
export { NixlEndpoint } from './endpoint';
export { DEFAULT_POOL_CACHE_BYTES, type NixlEndpointOptions, type NixlTransportOptions } from './options';
export type {
  NativeAgentStats as NixlStats, NativePoolCacheStats as NixlPoolCacheStats, NativeCudaStats as NixlCudaStats,
  NativePinnedStats as NixlPinnedStats,
} from './native';
export { CUDA_PACKAGE_FIX } from './cuda-link';
export { NixlUnavailableError, NIXL_FIX, ADDON_PATH } from './native';
export { NixlError } from './errors';
export type { NixlDescriptor, NixlRegionDescriptor } from './descriptor';
export default nixlPlugin;
