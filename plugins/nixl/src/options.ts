/** Options of the nixl transport (`init({ transportOptions: { nixl: {...} } })`). */
import { NixlError } from './errors';

/** What `transportOptions.nixl` may hold (see README, "Network exposure" and "The pool"). */
export interface NixlTransportOptions {
  /**
   * An IP address of this machine: the agent uses the interface that holds it. '0.0.0.0' or '::'
   * means every interface, '127.0.0.1', '::1' or 'localhost' loopback only. Default: env
   * TENSORWIRE_NIXL_HOST, else loopback only. Same meaning as gloo's `host`.
   */
  readonly host?: string;
  /**
   * UCX device list in UCX_NET_DEVICES syntax, e.g. 'eth0', 'mlx5_0:1,eth0' or 'all'. Use it
   * instead of `host` for RDMA devices, or when every host names its interface the same way.
   */
  readonly netDevices?: string;
  /**
   * Bound, in bytes, of the cache of pool chunks whose buffers were garbage-collected (kept
   * mapped and registered for the next `allocate`). Default: env TENSORWIRE_NIXL_POOL_CACHE_BYTES,
   * else 1 GiB. 0 unmaps every chunk as soon as its buffer is collected.
   */
  readonly poolCacheBytes?: number;
}

/** The options of a nixl endpoint: the transport options (an earlier name, kept for users). */
export type NixlEndpointOptions = NixlTransportOptions;

/** Default bound of the pool cache: 1 GiB. */
export const DEFAULT_POOL_CACHE_BYTES = 2 ** 30;

/** The endpoint options in `transportOptions.nixl` (types are checked where they are used). */
export function endpointOptions(options: Readonly<Record<string, unknown>>): NixlTransportOptions {
  const { poolCacheBytes, host, netDevices } = options;
  return {
    ...(typeof poolCacheBytes === 'number' ? { poolCacheBytes } : {}),
    host: host as string | undefined,
    netDevices: netDevices as string | undefined,
  };
}

/** The cache bound from the options, else the environment, else the default. */
export function poolCacheBytesFrom(options: NixlTransportOptions = {}, env = process.env): number {
  const fromEnv = env.TENSORWIRE_NIXL_POOL_CACHE_BYTES;
  const value = options.poolCacheBytes ?? (fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : DEFAULT_POOL_CACHE_BYTES);
  if (!Number.isFinite(value) || value < 0) {
    throw new NixlError('ERR_OUT_OF_RANGE', `nixl: the pool cache bound must be a non-negative number of bytes, got ${String(value)}`);
  }
  return Math.floor(value);
}
