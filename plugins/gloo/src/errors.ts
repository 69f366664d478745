/** Errors of the Gloo transport. */
import { TransportError, type TransportErrorKind } from '@tensorwire/core';

/**
 * Codes carried by {@link GlooError} (and by the addon's own errors):
 * - GLOO_TIMEOUT: an operation or the rendezvous ran past the group's timeout (group now broken);
 * - GLOO_IO: the connection failed, e.g. the peer process died (group now broken);
 * - GLOO_ABORTED: `abort(reason)` was called; GLOO_DESTROYED: the group was destroyed;
 * - GLOO_INVALID_RANK: a rank outside the group, or the caller's own rank;
 * - GLOO_DEVICE: the TCP device could not be created on the host;
 * - GLOO_RENDEZVOUS: the rendezvous store failed; GLOO_NOT_CONNECTED; GLOO_UNSUPPORTED;
 * - GLOO_DEVICE_TENSOR: a non-CPU tensor was given; GLOO_ENFORCE / GLOO_ERROR: other Gloo failures.
 */
export type GlooErrorCode =
  | 'GLOO_TIMEOUT'
  | 'GLOO_IO'
  | 'GLOO_ABORTED'
  | 'GLOO_DESTROYED'
  | 'GLOO_INVALID_RANK'
  | 'GLOO_DEVICE'
  | 'GLOO_RENDEZVOUS'
  | 'GLOO_NOT_CONNECTED'
  | 'GLOO_UNSUPPORTED'
  | 'GLOO_DEVICE_TENSOR'
  | 'GLOO_ENFORCE'
  | 'GLOO_ERROR'
  | 'GLOO_STUCK'
  | 'GLOO_CLOSED'
  | 'GLOO_UNAVAILABLE';

/** What each code means in the SPI's terms (TransportError.kind); other codes are INTERNAL. */
const KIND_OF: Readonly<Record<string, TransportErrorKind>> = {
  GLOO_TIMEOUT: 'TIMEOUT',
  GLOO_STUCK: 'TIMEOUT',
  GLOO_IO: 'PEER_LOST',
  GLOO_NOT_CONNECTED: 'PEER_LOST',
  GLOO_ABORTED: 'ABORTED',
  GLOO_DESTROYED: 'CLOSED',
  GLOO_CLOSED: 'CLOSED',
  GLOO_INVALID_RANK: 'INVALID',
  GLOO_DEVICE_TENSOR: 'INVALID',
  GLOO_UNSUPPORTED: 'INVALID',
  GLOO_DEVICE: 'UNAVAILABLE',
  GLOO_UNAVAILABLE: 'UNAVAILABLE',
  GLOO_RENDEZVOUS: 'PEER_LOST',
};

/**
 * An error of a Gloo operation: a TransportError (the SPI's contract) whose `code` is one of
 * {@link GlooErrorCode} (or the addon's) and whose `kind` follows from the code.
 */
export class GlooError extends TransportError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(KIND_OF[code] ?? 'INTERNAL', code, message, options);
  }
}

/** Turn whatever the addon threw or rejected with into a {@link GlooError} (same message and code). */
export function toGlooError(err: unknown): GlooError {
  if (err instanceof GlooError) return err;
  if (err instanceof Error) {
    const raw = (err as Error & { code?: unknown }).code;
    const code = typeof raw === 'string' ? raw : 'GLOO_ERROR';
    return new GlooError(code, err.message, { cause: err });
  }
  return new GlooError('GLOO_ERROR', String(err));
}

/** Run `fn` (which may throw synchronously) and return its Promise with errors as GlooError. */
export async function glooCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toGlooError(err);
  }
}
