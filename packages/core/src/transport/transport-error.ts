/**
 * The error contract between a transport and core. Every error a transport's endpoint or group
 * throws (or rejects with) is a {@link TransportError}: `kind` says what happened in terms core
 * acts on, `code` keeps the library's own identifier (e.g. 'GLOO_TIMEOUT', 'UCX_CONNECT_FAILED')
 * and `message` the library's own words.
 */
import { TensorwireError } from '../errors/errors';

/**
 * What went wrong, as core needs to know it:
 * - `TIMEOUT`: the operation ran past its `timeoutMs` (or the group's timeout);
 * - `ABORTED`: `abort(reason)` was called while it was pending;
 * - `PEER_LOST`: the other side died or its connection failed;
 * - `CLOSED`: the endpoint was closed or the group destroyed (before or during the operation);
 * - `UNAVAILABLE`: the library, device or network this transport needs is missing here;
 * - `INVALID`: the caller passed something this transport cannot take (a bad rank, a device
 *   tensor to a CPU-only transport, a descriptor of another transport, sizes that differ);
 * - `INTERNAL`: anything else the library reported.
 */
export type TransportErrorKind = 'TIMEOUT' | 'ABORTED' | 'PEER_LOST' | 'CLOSED' | 'UNAVAILABLE' | 'INVALID' | 'INTERNAL';

const KINDS: readonly TransportErrorKind[] = ['TIMEOUT', 'ABORTED', 'PEER_LOST', 'CLOSED', 'UNAVAILABLE', 'INVALID', 'INTERNAL'];

// A brand on globalThis's symbol registry: `isTransportError` holds across two copies of core
// in one process (a plugin with its own nested node_modules), where `instanceof` would not.
const BRAND = Symbol.for('tensorwire.TransportError');

/**
 * Base class of every transport's errors. Subclass it per transport (`GlooError`, `NixlError`)
 * and pass the library's code through.
 *
 * @example
 * ```ts
 * export class ShmError extends TransportError {}
 * throw new ShmError('TIMEOUT', 'SHM_TIMEOUT', `shm read: no answer within ${timeoutMs} ms`);
 * ```
 */
export class TransportError extends TensorwireError {
  /** Set on every TransportError; see {@link isTransportError}. */
  readonly [BRAND] = true;

  /**
   * @param kind what happened, in core's terms ({@link TransportErrorKind})
   * @param code the library's own stable identifier, e.g. 'GLOO_IO'
   * @param message the library's message; name the fix when there is one
   */
  constructor(readonly kind: TransportErrorKind, code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Whether `err` is a {@link TransportError} (of this or another copy of core). */
export function isTransportError(err: unknown): err is TransportError {
  return typeof err === 'object' && err !== null && (err as { [BRAND]?: unknown })[BRAND] === true &&
    KINDS.includes((err as { kind?: TransportErrorKind }).kind as TransportErrorKind);
}

/** The kind of any error a transport threw: its own for a TransportError, else INTERNAL. */
export function transportErrorKind(err: unknown): TransportErrorKind {
  return isTransportError(err) ? err.kind : 'INTERNAL';
}
