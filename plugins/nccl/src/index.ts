/**
 * @tensorwire/nccl: the NCCL tensor transport (CUDA tensors between actors, over NCCL's send,
 * recv and collectives). It loads NCCL at run time (libnccl.so.2, TENSORWIRE_LIBNCCL, or the
 * NCCL of a Python environment such as PyTorch's), so it installs everywhere and says, where
 * NCCL or a GPU is missing, what to do.
 *
 * Importing this module registers the 'nccl' transport (and @tensorwire/cuda's device backend):
 * ```ts
 * import '@tensorwire/nccl';
 * ```
 */
import { registerTransport } from '@tensorwire/core';
import '@tensorwire/cuda';
import { ncclPlugin } from './plugin';

registerTransport(ncclPlugin, { module: __filename });

// 'nccl' becomes a tensor transport name for the compiler too: `tensorTransport: 'nccl'` and
// `createCollectiveGroup(..., { backend: 'nccl' })` compile once this package is imported.
declare module '@tensorwire/core' {
  interface TensorTransports {
    nccl: true;
  }
}

export { ncclPlugin, NCCL_SUPPORTS, describeRuntime } from './plugin';
export type { NcclPlugin } from './plugin';
export { NcclEndpoint } from './endpoint';
export { NcclCollectiveGroup } from './group';
export { NCCL_DTYPES, NCCL_ALLREDUCE_DTYPES, resolveReduce } from './dtypes';
export type { NcclReduceOp, ResolvedReduce } from './dtypes';
export { NcclError, toNcclError } from './errors';
export type { NcclErrorCode } from './errors';
export { NcclUnavailableError, ADDON_PATH, ADDON_FIX, loadNative } from './native';
export type { NativeBinding, NativeGroup, NativeGroupOptions } from './native';
export { openNccl, tryOpenNccl, versionString, DEFAULT_LIBNCCL, NCCL_FIX } from './library';
export type { NcclRuntime, NcclSource } from './library';
export { findPythonNccl } from './python-nccl';
export { resolveOptions, DEFAULT_HOST } from './options';
export type { NcclTransportOptions, ResolvedOptions } from './options';
export { MULTI_RANK_GPU_VERSION } from './shared-gpu';
export default ncclPlugin;
