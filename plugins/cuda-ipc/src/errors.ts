/** Errors of the cuda-ipc transport: TransportErrors (the SPI's contract) with stable codes. */
import { TransportError, TransportUnavailableError, type TransportErrorKind } from '@tensorwire/core';

/**
 * What each code means in the SPI's terms (TransportError.kind); other codes are INTERNAL.
 * Codes: CUDA_IPC_* from this package, CUDA_ERROR_* from the CUDA driver (through
 * @tensorwire/cuda), ERR_* for bad option values (Node's own naming).
 */
const KIND_OF: Readonly<Record<string, TransportErrorKind>> = {
  CUDA_IPC_TIMEOUT: 'TIMEOUT',
  CUDA_IPC_CLOSED: 'CLOSED',
  CUDA_IPC_PRODUCER_LOST: 'PEER_LOST',
  CUDA_IPC_BAD_DESCRIPTOR: 'INVALID',
  CUDA_IPC_BAD_HANDLE: 'INVALID',
  CUDA_IPC_OTHER_HOST: 'INVALID',
  CUDA_IPC_NOT_PERMITTED: 'INVALID',
  CUDA_IPC_REGISTRATION_RELEASED: 'INVALID',
  CUDA_IPC_SIZE_MISMATCH: 'INVALID',
  CUDA_IPC_UNSUPPORTED_DEVICE: 'INVALID',
  CUDA_IPC_DEVICE_NOT_VISIBLE: 'INVALID',
  CUDA_IPC_UNAVAILABLE: 'UNAVAILABLE',
  INVALID_ARGUMENT: 'INVALID',
  ERR_INVALID_ARG_TYPE: 'INVALID',
  ERR_INVALID_ARG_VALUE: 'INVALID',
  ERR_OUT_OF_RANGE: 'INVALID',
};

/** Error raised by the cuda-ipc transport; `code` is stable and machine-readable, `kind` follows from it. */
export class CudaIpcError extends TransportError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(KIND_OF[code] ?? 'INTERNAL', code, message, options);
  }
}

/**
 * Whatever @tensorwire/cuda or the driver threw, as a {@link CudaIpcError} (same message; the
 * driver's code, e.g. CUDA_ERROR_INVALID_HANDLE, is kept). CUDA being unusable here is
 * CUDA_IPC_UNAVAILABLE.
 */
export function toCudaIpcError(err: unknown, what?: string): CudaIpcError {
  if (err instanceof CudaIpcError) return err;
  const prefix = what ? `cuda-ipc ${what}: ` : 'cuda-ipc: ';
  if (err instanceof TransportUnavailableError) {
    return new CudaIpcError('CUDA_IPC_UNAVAILABLE', `${prefix}${err.message}`, { cause: err });
  }
  if (err instanceof Error) {
    const raw = (err as Error & { code?: unknown }).code;
    return new CudaIpcError(typeof raw === 'string' ? raw : 'CUDA_IPC_INTERNAL', `${prefix}${err.message}`, { cause: err });
  }
  return new CudaIpcError('CUDA_IPC_INTERNAL', `${prefix}${String(err)}`);
}
