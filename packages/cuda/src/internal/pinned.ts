/**
 * Page-locked ("pinned") host memory, and the driver table through which another addon of this
 * process uses the driver that @tensorwire/cuda loaded (tensorwire/cuda_host_api.h).
 */
import { requireDriver } from '../driver';
import { fromNative } from '../errors';
import { deviceIndexOf } from '../stream';

/**
 * `nbytes` of page-locked host memory (cuMemHostAlloc, portable: every device's context may use
 * it), allocated with `device`'s context current. Copies between it and device memory run at the
 * bus's full speed and may overlap other work. The memory is freed (cuMemFreeHost) when the
 * returned array's buffer is garbage-collected; its contents start undefined. Pinning is slow
 * and the memory is scarce: allocate once and reuse (a transport keeps a pool of them).
 *
 * @example
 * ```ts
 * const staging = allocPinned(1 << 20);
 * await copyDeviceToHost(staging, { device: 0, ptr: t.devicePtr! });
 * ```
 */
export function allocPinned(nbytes: number, device: number | string = 0): Uint8Array {
  const d = deviceIndexOf(device, 'allocPinned');
  if (nbytes === 0) return new Uint8Array(0);
  const b = requireDriver();
  try {
    return b.allocPinned(d, nbytes);
  } catch (err) {
    throw fromNative(err, `allocPinned(${nbytes} bytes, cuda:${d})`);
  }
}

/** The opaque handle of {@link cudaHostApi}: pass it to an addon that reads the table. */
export type CudaHostApi = object & { readonly __brand?: 'tw_cuda_host_api' };

/**
 * The table of driver functions (tensorwire/cuda_host_api.h: contexts, pinned memory, streams,
 * async copies) over the driver this process opened, as a Node-API External, for another native
 * addon whose threads call the driver (e.g. @tensorwire/nixl's staging copies). Using it, that
 * addon shares this package's driver (the mock under TENSORWIRE_LIBCUDA too) instead of loading
 * a second copy. Throws DeviceUnavailableError when CUDA cannot be used here.
 */
export function cudaHostApi(): CudaHostApi {
  const b = requireDriver();
  try {
    return b.hostApi() as CudaHostApi;
  } catch (err) {
    throw fromNative(err, 'cudaHostApi');
  }
}
