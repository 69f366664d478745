/**
 * The link to @tensorwire/cuda, an optional peer dependency: loaded the first time a CUDA tensor
 * is registered or read, never before (CPU tensors work without it). It hands the addon
 * @tensorwire/cuda's driver table (`cudaHostApi()`), so nixl's staging thread calls the driver
 * that package loaded, the mock under TENSORWIRE_LIBCUDA included, and no second libcuda.
 */
import type { DeviceBuffer, TransportTensor } from '@tensorwire/core';
import { NixlError } from './errors';
import { loadNative } from './native';

/** What nixl uses of `@tensorwire/cuda/internal` (typed here: the package may be absent). */
interface CudaInternal {
  cudaHostApi(): object;
  holdBuffer(buffer: DeviceBuffer): () => void;
}

/** The fix named when a CUDA tensor meets a process without @tensorwire/cuda. */
export const CUDA_PACKAGE_FIX = 'npm install @tensorwire/cuda and import it in the processes that make CUDA tensors, or move the tensors to the CPU (tensor.cpu())';

let linked: CudaInternal | undefined;

/** Resolves `@tensorwire/cuda/internal` (a seam for tests). */
export const cudaModule = { load: (): unknown => require('@tensorwire/cuda/internal') };

/**
 * @tensorwire/cuda's internal API, linked to the addon on first use. Throws NixlError
 * NIXL_CUDA_UNAVAILABLE (kind UNAVAILABLE) naming the fix when the package is missing or CUDA
 * cannot be used in this process. `what` names the tensor for the message.
 */
export function requireCuda(what: string): CudaInternal {
  if (linked) return linked;
  let internal: CudaInternal;
  try {
    internal = cudaModule.load() as CudaInternal;
  } catch (err) {
    const missing = (err as { code?: string }).code === 'MODULE_NOT_FOUND';
    throw new NixlError(
      'NIXL_CUDA_UNAVAILABLE',
      missing
        ? `nixl: ${what} is a CUDA tensor, but @tensorwire/cuda is not installed here. Fix: ${CUDA_PACKAGE_FIX}`
        : `nixl: ${what} is a CUDA tensor, but @tensorwire/cuda could not be loaded: ${(err as Error).message}`,
      { cause: err },
    );
  }
  let table: object;
  try {
    table = internal.cudaHostApi();
  } catch (err) {
    // DeviceUnavailableError: its message says what is missing (no driver...) and the fix.
    throw new NixlError('NIXL_CUDA_UNAVAILABLE', `nixl: ${what} is a CUDA tensor, but CUDA cannot be used in this process: ${(err as Error).message}`, { cause: err });
  }
  try {
    loadNative().useCuda(table);
  } catch (err) {
    throw new NixlError('NIXL_CUDA_UNAVAILABLE', `nixl: ${(err as Error).message}`, { cause: err });
  }
  linked = internal;
  return internal;
}

/** The device index of a 'cuda:N' tensor, or undefined for 'cpu'; NIXL_UNSUPPORTED_DEVICE otherwise. */
export function cudaIndexOf(t: TransportTensor, what: string): number | undefined {
  if (t.device === 'cpu') return undefined;
  const m = /^cuda:(\d+)$/.exec(t.device);
  if (!m) {
    throw new NixlError('NIXL_UNSUPPORTED_DEVICE', `nixl: ${what} is on device '${t.device}'; nixl moves 'cpu' and 'cuda:N' tensors`);
  }
  if (t.nbytes > 0 && (typeof t.devicePtr !== 'bigint' || t.devicePtr <= 0n)) {
    throw new NixlError('NIXL_UNSUPPORTED_DEVICE', `nixl: ${what} is on '${t.device}' but has no device pointer (devicePtr)`);
  }
  return Number(m[1]);
}

/**
 * Keeps a CUDA tensor's memory from going back to @tensorwire/cuda's caching allocator until the
 * returned function is called, even if the tensor is released meanwhile (a peer may still be
 * copying it). A device tensor of another backend (no `deviceBuffer`) is only kept reachable.
 */
export function holdDeviceMemory(cuda: CudaInternal, t: TransportTensor): () => void {
  const buffer = (t as { deviceBuffer?: DeviceBuffer }).deviceBuffer;
  return buffer ? cuda.holdBuffer(buffer) : () => void t;
}
