/**
 * Errors of @tensorwire/cuda. A failing driver call becomes a CudaError whose `code` is the
 * driver's own name for the failure (CUDA_ERROR_INVALID_VALUE, ...) and whose message is the
 * driver's, prefixed with what was being done; running out of device memory is a
 * CudaOutOfMemoryError that says how memory is used and what to do. A device that cannot be
 * used at all is core's DeviceUnavailableError (a TransportUnavailableError).
 */
import { InvalidArgumentError, RuntimeStateError, TensorwireError } from '@tensorwire/core';

/** A CUDA driver call failed. `code` is the driver's name of the result, e.g. CUDA_ERROR_INVALID_VALUE. */
export class CudaError extends TensorwireError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Memory use reported with an out-of-memory error, in bytes. */
export interface OutOfMemoryDetails {
  readonly device: string;
  readonly requestedBytes: number;
  /** In tensors now. */
  readonly allocatedBytes: number;
  /** Held by the caching allocator (allocated plus cached). */
  readonly reservedBytes: number;
  /** Free on the device, as the driver reports it (other processes' use included). */
  readonly freeBytes?: number;
  readonly totalBytes?: number;
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? '?' : `${(bytes / 2 ** 20).toFixed(2)} MiB`;
}

/** The device has no room for an allocation, even after the cache was emptied. */
export class CudaOutOfMemoryError extends CudaError {
  constructor(readonly details: OutOfMemoryDetails, options?: { cause?: unknown }) {
    super(
      'CUDA_ERROR_OUT_OF_MEMORY',
      `CUDA out of memory on ${details.device}: tried to allocate ${mib(details.requestedBytes)}; ` +
        `${mib(details.allocatedBytes)} is in tensors, ${mib(details.reservedBytes)} is reserved by the caching allocator, ` +
        `${mib(details.freeBytes)} is free of ${mib(details.totalBytes)} on the device. ` +
        'Fix: release tensors you no longer need (tensor.release(), or drop them), use smaller tensors, or free memory held by other processes on the device',
      options,
    );
  }
}

/** A native error (a JS Error with the addon's `code`) as the typed error of this package. */
export function fromNative(err: unknown, what: string): Error {
  if (err instanceof TensorwireError || !(err instanceof Error)) return err as Error;
  const code = (err as { code?: unknown }).code;
  const message = `${what}: ${err.message}`;
  if (code === 'ERR_INVALID_ARG_TYPE' || code === 'ERR_OUT_OF_RANGE') return new InvalidArgumentError(message, { cause: err });
  if (code === 'CUDA_STREAM_DESTROYED') return new RuntimeStateError(`${message}; make a new Stream`);
  if (code === 'CUDA_EVENT_DESTROYED') return new RuntimeStateError(`${message}; make a new Event`);
  return new CudaError(typeof code === 'string' ? code : 'CUDA_ERROR', message, { cause: err });
}
