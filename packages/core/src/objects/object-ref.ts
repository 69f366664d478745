import { currentRefTracker, type RefTracker } from './ref-tracking';

const collected = new FinalizationRegistry<{ id: string; ctx: RefTracker }>(({ id, ctx }) => {
  ctx.refCollected(id);
});

/**
 * A reference to the (future) result of a remote call or a `put`. Pass it to other calls
 * (the callee receives the value) or resolve it with `get`. When every ObjectRef of an object
 * is garbage-collected (or `free(ref)` is called), the object is freed.
 *
 * @example
 * ```ts
 * const ref: ObjectRef<Tensor> = producer.randomTensor.remote();
 * const total = await get(consumer.sum.remote(ref));
 * ```
 */
export class ObjectRef<T = unknown> {
  /** Phantom field carrying the value type; never set. */
  declare readonly __valueType?: T;

  constructor(readonly id: string) {
    const ctx = currentRefTracker();
    if (ctx) {
      ctx.refAdded(id);
      collected.register(this, { id, ctx });
    }
  }

  toString(): string {
    return `ObjectRef(${this.id})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

export function isObjectRef(x: unknown): x is ObjectRef<unknown> {
  return x instanceof ObjectRef;
}
