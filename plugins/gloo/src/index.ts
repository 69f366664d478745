/**
 * @tensorwire/gloo: the Gloo tensor transport (CPU tensors over TCP).
 *
 * Importing this module registers the 'gloo' transport:
 * ```ts
 * import '@tensorwire/gloo';
 * ```
 */
import { registerTransport } from '@tensorwire/core';
import { glooPlugin } from './plugin';

registerTransport(glooPlugin, { module: __filename });

// 'gloo' becomes a tensor transport name for the compiler too: `tensorTransport: 'gloo'` and
// `createCollectiveGroup(..., { backend: 'gloo' })` compile once this package is imported.
declare module '@tensorwire/core' {
  interface TensorTransports {
    gloo: true;
  }
}

export { glooPlugin, GLOO_SUPPORTS } from './plugin';
export type { GlooPlugin } from './plugin';
export { GlooEndpoint } from './endpoint';
export { GlooCollectiveGroup, GLOO_ALLREDUCE_DTYPES, cpuBytes } from './group';
export type { GlooReduceOp } from './group';
export { GlooError, toGlooError } from './errors';
export type { GlooErrorCode } from './errors';
export { GlooUnavailableError, GLOO_FIX, ADDON_PATH, loadNative } from './native';
export type { NativeBinding, NativeGroup, NativeGroupOptions, NativeStoreFn } from './native';
export { resolveHost, DEFAULT_HOST } from './options';
export type { GlooTransportOptions } from './options';
export default glooPlugin;
