/**
 * Ids of objects and actors. Every id carries the random id of the runtime that issued it, so a
 * ref or handle kept from a runtime that was shut down can never alias an object or actor of a
 * later one in the same process, and ids that cross a network cannot be guessed.
 *
 * Forms (`R` is the runtime id, base64url, so it holds neither '@' nor '.'):
 *   `o17@R`       an object made by the driver (a call's result, a `put`)
 *   `a3@R`        an actor
 *   `a3@R.t5`     an object made inside actor a3 (`.t`: a call it submitted, `.p`: a `put`)
 */
import * as crypto from 'node:crypto';

/** 72 random bits: unguessable, and short enough to ride in every message. */
export function newRuntimeId(): string {
  return crypto.randomBytes(9).toString('base64url');
}

/** The id of the runtime that issued `id`, or undefined when tensorwire never made such an id. */
export function runtimeIdOf(id: string): string | undefined {
  const at = id.indexOf('@');
  if (at <= 0) return undefined;
  const dot = id.indexOf('.', at);
  const rid = id.slice(at + 1, dot < 0 ? undefined : dot);
  return rid.length > 0 ? rid : undefined;
}

/** True when `id` names an object made inside actor `actorId` (its own namespace). */
export function isInActorNamespace(id: string, actorId: string): boolean {
  return id.length > actorId.length + 1 && id.startsWith(actorId) && id.charCodeAt(actorId.length) === 46 /* '.' */;
}

/**
 * Why the driver does not know `id`, for ObjectLostError: never issued, issued by another
 * runtime, or freed.
 */
export function unknownIdReason(id: string, runtimeId: string): string {
  const rid = runtimeIdOf(id);
  if (rid === undefined) {
    return 'tensorwire never issued this id (ObjectRefs come from .remote() and put(); do not construct them)';
  }
  if (rid !== runtimeId) {
    return 'the ref belongs to another tensorwire runtime (one that was shut down?); refs and handles do not survive shutdown()';
  }
  return 'it was freed (free() was called, or every ObjectRef to it was dropped)';
}

/** Why actor id `actorId` is unknown to the runtime `runtimeId` (for a call through a stale handle). */
export function unknownActorReason(actorId: string, runtimeId: string): string {
  return runtimeIdOf(actorId) === runtimeId
    ? `no actor with id ${actorId}`
    : 'this actor handle belongs to another tensorwire runtime (one that was shut down?); handles do not survive shutdown()';
}
