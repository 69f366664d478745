/** Errors of the NCCL transport. */
import { TransportError, type TransportErrorKind } from '@tensorwire/core';

/**
 * Codes carried by {@link NcclError}:
 * - NCCL_TIMEOUT: an operation or the connect ran past the group's timeout (the communicator
 *   was aborted; the group is broken);
 * - NCCL_PEER_LOST: another rank died, or broke or destroyed its end of the group (broken);
 * - NCCL_ABORTED: `abort(reason)` was called (broken); NCCL_DESTROYED / NCCL_CLOSED: the group
 *   was destroyed or the endpoint closed;
 * - NCCL_INVALID_RANK, NCCL_INVALID_ARGUMENT, NCCL_CPU_TENSOR, NCCL_DEVICE_MISMATCH,
 *   NCCL_UNSUPPORTED_DTYPE, NCCL_SIZE_MISMATCH (a send and its recv differ: nothing moved),
 *   NCCL_COLLECTIVE_MISMATCH, NCCL_SHARED_GPU, NCCL_NOT_CONNECTED: the arguments or the setup
 *   (the group stays usable unless said otherwise);
 * - NCCL's own results, reported by a call or asynchronously (ncclCommGetAsyncError), with
 *   NCCL's words and ncclGetLastError's: NCCL_UNHANDLED_CUDA_ERROR, NCCL_SYSTEM_ERROR,
 *   NCCL_INTERNAL_ERROR, NCCL_INVALID_ARGUMENT, NCCL_INVALID_USAGE, NCCL_REMOTE_ERROR;
 * - NCCL_CUDA: a CUDA driver call of the transport failed;
 * - NCCL_UNAVAILABLE: the addon, CUDA or libnccl is missing here.
 */
export type NcclErrorCode =
  | 'NCCL_TIMEOUT'
  | 'NCCL_PEER_LOST'
  | 'NCCL_ABORTED'
  | 'NCCL_DESTROYED'
  | 'NCCL_CLOSED'
  | 'NCCL_INVALID_RANK'
  | 'NCCL_INVALID_ARGUMENT'
  | 'NCCL_CPU_TENSOR'
  | 'NCCL_DEVICE_MISMATCH'
  | 'NCCL_UNSUPPORTED_DTYPE'
  | 'NCCL_SIZE_MISMATCH'
  | 'NCCL_COLLECTIVE_MISMATCH'
  | 'NCCL_SHARED_GPU'
  | 'NCCL_NOT_CONNECTED'
  | 'NCCL_UNHANDLED_CUDA_ERROR'
  | 'NCCL_SYSTEM_ERROR'
  | 'NCCL_INTERNAL_ERROR'
  | 'NCCL_INVALID_USAGE'
  | 'NCCL_REMOTE_ERROR'
  | 'NCCL_CONNECT'
  | 'NCCL_CUDA'
  | 'NCCL_UNAVAILABLE'
  | 'NCCL_ERROR';

/** What each code means in the SPI's terms (TransportError.kind); other codes are INTERNAL. */
const KIND_OF: Readonly<Record<string, TransportErrorKind>> = {
  NCCL_TIMEOUT: 'TIMEOUT',
  NCCL_PEER_LOST: 'PEER_LOST',
  NCCL_REMOTE_ERROR: 'PEER_LOST',
  NCCL_CONNECT: 'PEER_LOST',
  NCCL_ABORTED: 'ABORTED',
  NCCL_DESTROYED: 'CLOSED',
  NCCL_CLOSED: 'CLOSED',
  NCCL_INVALID_RANK: 'INVALID',
  NCCL_INVALID_ARGUMENT: 'INVALID',
  NCCL_INVALID_USAGE: 'INVALID',
  NCCL_CPU_TENSOR: 'INVALID',
  NCCL_DEVICE_MISMATCH: 'INVALID',
  NCCL_UNSUPPORTED_DTYPE: 'INVALID',
  NCCL_SIZE_MISMATCH: 'INVALID',
  NCCL_COLLECTIVE_MISMATCH: 'INVALID',
  NCCL_SHARED_GPU: 'INVALID',
  NCCL_NOT_CONNECTED: 'INVALID',
  NCCL_UNAVAILABLE: 'UNAVAILABLE',
};

/** NCCL's own ncclResult_t behind a code, when the code is one of NCCL's results. */
const RESULT_OF: Readonly<Record<string, number>> = {
  NCCL_UNHANDLED_CUDA_ERROR: 1,
  NCCL_SYSTEM_ERROR: 2,
  NCCL_INTERNAL_ERROR: 3,
  NCCL_INVALID_ARGUMENT: 4,
  NCCL_INVALID_USAGE: 5,
  NCCL_REMOTE_ERROR: 6,
};

/**
 * An error of an NCCL operation: a TransportError (the SPI's contract) whose `code` is one of
 * {@link NcclErrorCode} and whose `kind` follows from the code. `ncclResult` is NCCL's own
 * result code when NCCL reported the failure (its message then holds ncclGetErrorString's and
 * ncclGetLastError's words).
 *
 * @example
 * ```ts
 * try { await group.recv([t], 1, 7); }
 * catch (e) { if (e instanceof NcclError && e.kind === 'TIMEOUT') { ... } }
 * ```
 */
export class NcclError extends TransportError {
  readonly ncclResult?: number;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(KIND_OF[code] ?? 'INTERNAL', code, message, options);
    this.name = 'NcclError';
    const result = RESULT_OF[code];
    if (result !== undefined) this.ncclResult = result;
  }
}

/** Turn whatever the addon threw or rejected with into an {@link NcclError} (same message and code). */
export function toNcclError(err: unknown): NcclError {
  if (err instanceof NcclError) return err;
  if (err instanceof Error) {
    const raw = (err as Error & { code?: unknown }).code;
    const code = typeof raw === 'string' && raw.startsWith('NCCL_') ? raw : 'NCCL_ERROR';
    return new NcclError(code, err.message, { cause: err });
  }
  return new NcclError('NCCL_ERROR', String(err));
}

/** Run `fn` (which may throw synchronously) and return its Promise with errors as NcclError. */
export async function ncclCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toNcclError(err);
  }
}
