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
  /**
   * The collective group that moves this call's GPU-object arguments to the actor, and its
   * result's tensors to later consumers, when the actors share several groups of the
   * transport (without it, a transfer between actors in several common groups fails with
   * AmbiguousCollectiveGroupError, which lists them). Overrides `@method({ collectiveGroup })`.
   *
   * @example
   * ```ts
   * await createCollectiveGroup([trainer, sampler], { backend: 'gloo', name: 'weights' });
   * await createCollectiveGroup([trainer, sampler], { backend: 'gloo', name: 'rollouts' });
   * sampler.load.options({ collectiveGroup: 'weights' }).remote(trainer.weights.remote());
   * ```
   */
  collectiveGroup?: string;
}

export interface GetOptions {
  /** Reject with GetTimeoutError after this many milliseconds. */
  timeoutMs?: number;
  /**
   * Fetch over the object's own transport (one-sided ones; two-sided ones with `into` inside
   * an actor that shares a group with the producer), or through 'object-store'.
   */
  tensorTransport?: TensorTransportName;
  /**
   * Receive the object's tensors straight into these tensors (a tensor, a list, or a value
   * shaped like the object: its tensors in the order the object holds them), with no
   * allocation: same count, dtypes and shapes, else IntoMismatchError naming the difference.
   * One ref only. Inside an actor, a two-sided object moves over a collective group the
   * actor shares with its producer (else through the object store, copied in); a one-sided
   * one is read into them; `get` returns the object's value made of these very tensors.
   *
   * @example
   * ```ts
   * // inside an inference actor, given keepRef(weightsRef):
   * await get(weightsRef, { into: [this.w1, this.w2] }); // this.w1/this.w2 now hold the new weights
   * ```
   */
  into?: unknown;
  /** With `into`, inside an actor: the group to receive over when it shares several with the producer. */
  collectiveGroup?: string;
}

export type { GetRequest } from '../gpu/gpu-object';

export interface PutOptions {
  /**
   * Inside an actor: make a GPU object owned by this actor, moved over this transport (a
   * one-sided one: consumers read it; a two-sided one: it is sent over the collective group a
   * consumer shares with this actor, like a method's GPU result).
   */
  tensorTransport?: TensorTransportName;
  /** With a two-sided `tensorTransport`: the group that moves it when a consumer shares several with this actor. */
  collectiveGroup?: string;
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
