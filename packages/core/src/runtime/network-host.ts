/**
 * Which address tensor transports bind when actors run on several hosts. Transports bind
 * loopback unless told otherwise (gloo's TCP device, nixl's UCX listener: see their READMEs,
 * "Network exposure"). When this process reaches its peers through another interface (a
 * driver whose control plane listens there, an actor that joined its driver from another
 * host), the address of that interface is the one to use: this hands it to the transports
 * through their environment variables, unless the user set them (or the transport's own
 * options, which win over the environment).
 */
import * as net from 'node:net';

/** Read by third-party transports: the address of this process on the network of its peers. */
export const NETWORK_HOST_ENV = 'TENSORWIRE_NETWORK_HOST';
/** The project's transports' own variables (each documented in its README). */
const TRANSPORT_HOST_ENVS = ['TENSORWIRE_GLOO_HOST', 'TENSORWIRE_NIXL_HOST'] as const;

/** Whether `address` is a loopback address (transports already default to loopback). */
export function isLoopbackAddress(address: string): boolean {
  const a = address.replace(/^\[(.*)\]$/, '$1').replace(/^::ffff:/, '');
  return a === 'localhost' || a === '::1' || (net.isIPv4(a) && a.startsWith('127.'));
}

/** Whether `address` is a wildcard (every interface): never a transport's address to advertise. */
export function isWildcardAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '[::]';
}

/**
 * Point the transports of this process at `address` (an address of this host that its peers
 * reach). Loopback and wildcard addresses change nothing; variables already set are kept.
 * Returns the variables it set.
 */
export function adoptNetworkHost(address: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const a = address.replace(/^::ffff:/, '');
  if (isLoopbackAddress(a) || isWildcardAddress(a) || net.isIP(a) === 0) return [];
  const set: string[] = [];
  for (const name of [NETWORK_HOST_ENV, ...TRANSPORT_HOST_ENVS]) {
    if (env[name] === undefined || env[name] === '') {
      env[name] = a;
      set.push(name);
    }
  }
  return set;
}
