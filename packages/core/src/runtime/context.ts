/**
 * The process-wide context behind the public API functions: the driver's Runtime in the
 * user's program, or the worker client inside an actor process (which forwards to the driver).
 */
import { RuntimeStateError } from '../errors/errors';
import type { ObjectRef } from '../objects/object-ref';
import type { TensorTransportName } from '../transport/transport-names';
import { setRefTracker, type RefTracker } from '../objects/ref-tracking';
import type { ActorInfo } from './actor-info';

export interface CallOptions {
  /** Tensor transport for this call's result ('object-store' to disable GPU objects). */
  tensorTransport?: TensorTransportName;
}

export interface GetOptions {
  /** Reject with GetTimeoutError after this many milliseconds. */
  timeoutMs?: number;
  /** One-sided transports only: fetch over this transport, or 'object-store'. */
  tensorTransport?: TensorTransportName;
}

export interface PutOptions {
  /** Inside an actor, with a one-sided transport: make a GPU object owned by this actor. */
  tensorTransport?: TensorTransportName;
}

export interface WaitOptions {
  numReturns?: number;
  timeoutMs?: number;
}

export interface CoreContext extends RefTracker {
  readonly kind: 'driver' | 'worker';
  submit(target: ActorInfo, method: string, args: unknown[], options: CallOptions): ObjectRef<unknown>;
  get(ids: readonly string[], options: GetOptions): Promise<unknown[]>;
  put(value: unknown, options: PutOptions): ObjectRef<unknown>;
  wait(ids: readonly string[], numReturns: number, timeoutMs: number | undefined): Promise<string[]>;
  free(ids: readonly string[]): Promise<void>;
  kill(actorId: string): Promise<void>;
}

let current: CoreContext | null = null;

export function setContext(ctx: CoreContext | null): void {
  current = ctx;
  setRefTracker(ctx);
}

export function currentContext(): CoreContext | null {
  return current;
}

export function requireContext(what: string): CoreContext {
  if (!current) {
    throw new RuntimeStateError(`${what} needs a running tensorwire runtime: call \`await init()\` first`);
  }
  return current;
}

/**
 * True inside an actor process. An actor process imports the module that defines its class,
 * so that module's top-level code runs in every actor too; guard driver-only code with this
 * (or, better, keep actor classes in a module of their own).
 *
 * @example
 * ```ts
 * if (!isActorProcess()) {
 *   console.log('starting'); // printed once, by the driver, not once per actor
 * }
 * ```
 */
export function isActorProcess(): boolean {
  return process.env.TENSORWIRE_ACTOR_ID !== undefined;
}
