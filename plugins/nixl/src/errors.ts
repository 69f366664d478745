/** Errors of the nixl transport: TransportErrors (the SPI's contract) with the library's codes. */
import { TransportError, type TransportErrorKind } from '@tensorwire/core';

/**
 * What each code means in the SPI's terms (TransportError.kind); other codes are INTERNAL.
 * Codes: NIXL_* from this package and its addon, UCX_* from UCX (via the addon), ERR_* for
 * bad option values (Node's own naming).
 */
const KIND_OF: Readonly<Record<string, TransportErrorKind>> = {
  NIXL_TIMEOUT: 'TIMEOUT',
  NIXL_CLOSED: 'CLOSED',
  NIXL_REGISTRATION_RELEASED: 'INVALID',
  NIXL_BAD_DESCRIPTOR: 'INVALID',
  NIXL_SIZE_MISMATCH: 'INVALID',
  NIXL_UNSUPPORTED_DEVICE: 'INVALID',
  NIXL_CUDA_UNAVAILABLE: 'UNAVAILABLE',
  NIXL_CUDA_FAILED: 'INTERNAL',
  NIXL_TOO_MANY_REGISTRATIONS: 'INTERNAL',
  NIXL_ADDON_MISSING: 'UNAVAILABLE',
  UCX_INIT_FAILED: 'UNAVAILABLE',
  UCX_CONNECT_FAILED: 'PEER_LOST',
  UCX_ENDPOINT_FAILED: 'PEER_LOST',
  UCX_RKEY_INVALID: 'INVALID',
  ERR_INVALID_ARG_TYPE: 'INVALID',
  ERR_INVALID_ARG_VALUE: 'INVALID',
  ERR_OUT_OF_RANGE: 'INVALID',
};

/** Error raised by the nixl transport; `code` is stable and machine-readable, `kind` follows from it. */
export class NixlError extends TransportError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(KIND_OF[code] ?? 'INTERNAL', code, message, options);
  }
}

/** Whatever the addon threw or rejected with, as a {@link NixlError} (same message and code). */
export function toNixlError(err: unknown): NixlError {
  if (err instanceof NixlError) return err;
  if (err instanceof Error) {
    const raw = (err as Error & { code?: unknown }).code;
    return new NixlError(typeof raw === 'string' ? raw : 'UCX_ERROR', err.message, { cause: err });
  }
  return new NixlError('UCX_ERROR', String(err));
}

/** Run `fn` (which may throw synchronously) with its errors as NixlError. */
export async function nixlCall<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toNixlError(err);
  }
}
