/**
 * @tensorwire/cuda: CUDA tensors for tensorwire. Importing it registers the 'cuda' device backend
 * with @tensorwire/core (in the driver and, when imported by an actor's module, in every actor),
 * so `Tensor.zeros([n], { device: 'cuda:0' })`, `.cuda()`, `await .toAsync('cuda:1')` work.
 *
 * The addon loads the CUDA driver at run time (libcuda.so.1, or TENSORWIRE_LIBCUDA): the package
 * builds and loads on any machine, and where there is no driver every CUDA operation fails with a
 * DeviceUnavailableError that names what is missing and the fix, while CPU tensors keep working.
 *
 * @example
 * ```ts
 * import { Tensor } from '@tensorwire/core';
 * import { memoryStats } from '@tensorwire/cuda';
 * const x = await Tensor.randn([1024, 1024]).toAsync('cuda:0'); // copy off the JS thread
 * x.release();                                                   // block back to the cache
 * console.log(memoryStats('cuda:0')[0].reservedBytes);
 * ```
 */
import { registerDeviceBackend } from '@tensorwire/core/spi';
import { cudaBackend } from './backend';

registerDeviceBackend('cuda', cudaBackend);

export { isAvailable, availability, deviceCount, driverVersion } from './availability';
export { memoryStats, emptyCache, resetPeakMemoryStats, synchronize } from './memory';
export type { CudaMemoryStats } from './allocator/memory-stats';
export { Stream } from './stream';
export { CudaError, CudaOutOfMemoryError, type OutOfMemoryDetails } from './errors';
export { DEFAULT_LIBCUDA, driverLibraryPath } from './driver';
