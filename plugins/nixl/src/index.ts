/**
 * @tensorwire/nixl: a one-sided tensor transport that follows NIXL's transfer model (agents,
 * registered memory, serializable descriptors, one-sided reads) implemented directly on UCX's
 * UCP API. It does not link libnixl. Importing this module registers the 'nixl' transport.
 */
import { registerTransport } from '@tensorwire/core';
import { nixlPlugin } from './plugin';

registerTransport(nixlPlugin, { module: __filename });

export { nixlPlugin };
export { NixlEndpoint, DEFAULT_POOL_CACHE_BYTES, type NixlEndpointOptions } from './endpoint';
export type { NativeAgentStats as NixlStats, NativePoolCacheStats as NixlPoolCacheStats } from './addon';
export { NixlError } from './errors';
export type { NixlDescriptor, NixlRegionDescriptor } from './descriptor';
export { runBareUcxRead, type BareReadOptions, type BareReadResult, type BareReadRow } from './bare-read';
export default nixlPlugin;
