/**
 * `keepRef(ref)`: an argument that reaches the actor as the ObjectRef itself. Refs in a call's
 * arguments are otherwise resolved before the call runs (the actor gets the value); a kept one
 * is not, so the actor decides when and where to `get` it, e.g. into tensors it already holds.
 */
import { InvalidArgumentError } from '../errors/errors';
import { ObjectRef } from './object-ref';

/** A ref wrapped by {@link keepRef}: passed to an actor as the ref, not its value. */
export class KeptRef<T = unknown> {
  /** Phantom field carrying the value type; never set. */
  declare readonly __keptType?: T;

  constructor(readonly ref: ObjectRef<T>) {}

  toString(): string {
    return `keepRef(${this.ref.id})`;
  }
}

/**
 * Pass `ref` to an actor as the ObjectRef itself instead of its value: the runtime keeps the
 * object alive until the call has started (the actor's ref keeps it alive from then on) and
 * does not wait for it or transfer it. The parameter's type is `ObjectRef<T>`; inside the
 * actor, `get(ref)` (or `get(ref, { into })`) fetches it when the actor wants it.
 *
 * @example
 * ```ts
 * // in the actor: async sync(ref: ObjectRef<Tensor[]>) { await get(ref, { into: this.weights }); }
 * const weights = trainer.publish.remote();
 * await get(sampler.sync.remote(keepRef(weights)));
 * ```
 */
export function keepRef<T>(ref: ObjectRef<T>): KeptRef<T> {
  if (!(ref instanceof ObjectRef)) {
    throw new InvalidArgumentError(`keepRef takes an ObjectRef (a remote call's result or a put's), got ${ref === null ? 'null' : typeof ref}`);
  }
  return new KeptRef(ref);
}
