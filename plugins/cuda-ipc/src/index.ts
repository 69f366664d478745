/**
 * @tensorwire/cuda-ipc: a one-sided tensor transport for CUDA tensors between processes of one
 * host (Ray's CUDA_IPC): the producer registers its tensors' allocations as CUDA IPC handles,
 * the consumer opens them and copies device to device. Built on @tensorwire/cuda (no addon of
 * its own). Importing this module registers the 'cuda-ipc' transport and the 'cuda' device backend.
 */
import '@tensorwire/cuda';
import { registerTransport } from '@tensorwire/core';
import { CUDA_IPC_FIX, cudaIpcPlugin } from './plugin';

registerTransport(cudaIpcPlugin, { module: __filename });

// 'cuda-ipc' becomes a tensor transport name for the compiler too: `tensorTransport: 'cuda-ipc'`
// compiles once this package is imported.
declare module '@tensorwire/core' {
  interface TensorTransports {
    'cuda-ipc': true;
  }
}

export { cudaIpcPlugin, CUDA_IPC_FIX };
export { CudaIpcEndpoint, type CudaIpcStats } from './endpoint';
export { CudaIpcError } from './errors';
export {
  DEFAULT_HANDLE_CACHE_SIZE, DEFAULT_IDLE_CLOSE_MS, DEFAULT_LIVENESS_INTERVAL_MS, DEFAULT_STAGING_CHUNK_BYTES, type CudaIpcTransportOptions,
} from './options';
export type { CudaIpcDescriptor, CudaIpcDeviceDescriptor, CudaIpcRegionDescriptor } from './descriptor';
export type { ProcessIdentity } from './host-identity';
export default cudaIpcPlugin;
