/**
 * Errors cross process boundaries as plain data and come back as the same tensorwire error
 * class when one exists (so `instanceof TransferError` works in the driver for an error raised
 * in an actor), else as an Error with the remote name, message, code and stack.
 */
import * as E from './errors';

/** An error as plain, serializable data. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  /** Own enumerable fields of the original error (e.g. actorName, details). */
  fields?: Record<string, unknown>;
  /** The error's cause, when it is an Error (e.g. TaskError's remote error). */
  cause?: WireError;
}

function plainFields(err: object): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  let any = false;
  for (const [k, v] of Object.entries(err)) {
    if (k === 'cause' || typeof v === 'function') continue;
    if (v === null || ['string', 'number', 'boolean', 'bigint'].includes(typeof v) || Array.isArray(v) || typeof v === 'object') {
      try {
        structuredClone(v);
        out[k] = v;
        any = true;
      } catch {
        /* not cloneable: leave it out */
      }
    }
  }
  return any ? out : undefined;
}

/** Turn anything thrown into a WireError. */
export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      stack: err.stack,
      code: typeof code === 'string' ? code : undefined,
      fields: plainFields(err),
      cause: err.cause instanceof Error ? toWireError(err.cause) : undefined,
    };
  }
  return { name: 'Error', message: `non-Error value thrown: ${String(err)}` };
}

// Rebuilt without calling their constructors: their messages are already final.
const CLASSES: Record<string, new (...a: never[]) => Error> = {
  TensorwireError: E.TensorwireError,
  ActorDiedError: E.ActorDiedError,
  TaskError: E.TaskError,
  TransferError: E.TransferError,
  TransportUnavailableError: E.TransportUnavailableError,
  DeviceUnavailableError: E.DeviceUnavailableError,
  InvalidTransportError: E.InvalidTransportError,
  CollectiveGroupError: E.CollectiveGroupError,
  AmbiguousCollectiveGroupError: E.AmbiguousCollectiveGroupError,
  IntoMismatchError: E.IntoMismatchError,
  GetTimeoutError: E.GetTimeoutError,
  InvalidArgumentError: E.InvalidArgumentError,
  ObjectLostError: E.ObjectLostError,
  RuntimeStateError: E.RuntimeStateError,
};

/** Rebuild an Error from a WireError; the local stack is appended after the remote one. */
export function fromWireError(w: WireError): Error {
  const Cls = CLASSES[w.name];
  // A real Error (with the engine's error internals, so tools that check for errors accept it)
  // given the class's prototype.
  const err = new Error(w.message);
  if (Cls) Object.setPrototypeOf(err, Cls.prototype);
  Object.defineProperty(err, 'message', { value: w.message, writable: true, configurable: true });
  Object.defineProperty(err, 'name', { value: w.name, writable: true, configurable: true });
  if (w.fields) Object.assign(err, w.fields);
  if (w.code) (err as { code?: string }).code = w.code;
  if (w.cause) Object.defineProperty(err, 'cause', { value: fromWireError(w.cause), writable: true, configurable: true });
  Object.defineProperty(err, 'stack', { value: w.stack ?? `${w.name}: ${w.message}`, writable: true, configurable: true });
  return err;
}
