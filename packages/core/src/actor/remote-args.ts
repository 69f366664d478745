/**
 * The types of arguments of remote calls and `spawn`: where a value of type T is expected, an
 * `ObjectRef<T>` may stand in its place, at any depth (in arrays, tuples, objects, Maps and
 * Sets), because the runtime resolves every ref it finds in the arguments before the call
 * runs. (Ray resolves only top-level refs; tensorwire resolves nested ones too.)
 */
import type { ObjectRef } from '../objects/object-ref';
import type { KeptRef } from '../objects/kept-ref';
import type { Tensor } from '../tensor/tensor';

/**
 * Values whose insides are not argument positions: primitives, functions, refs themselves,
 * tensors and byte containers (sent as they are), dates and regular expressions.
 */
type Opaque =
  | string | number | boolean | bigint | symbol | null | undefined
  | ((...args: never[]) => unknown)
  | ObjectRef<unknown> | KeptRef<unknown> | Tensor
  | ArrayBuffer | SharedArrayBuffer | ArrayBufferView
  | Date | RegExp;

/** The containers inside `T` with refs allowed in their places (never for opaque values). */
type RefsInside<T> = T extends Opaque
  ? never
  : T extends ReadonlyMap<infer K, infer V>
    ? Map<K, MaybeRef<V>>
    : T extends ReadonlySet<infer E>
      ? Set<MaybeRef<E>>
      : T extends object
        ? { [K in keyof T]: MaybeRef<T[K]> } // arrays and tuples stay arrays and tuples
        : never;

/**
 * A `T`, an `ObjectRef<T>`, or `T` with refs in place of any of its parts, at any depth. The
 * callee receives plain values either way.
 *
 * @example
 * ```ts
 * // sumAll(xs: Tensor[]): number
 * const a: ObjectRef<Tensor> = producer.make.remote();
 * consumer.sumAll.remote([a, Tensor.ones([3])]); // the actor gets two tensors
 * ```
 */
export type MaybeRef<T> = T | ObjectRef<T> | RefsInside<T> | KeptParam<T>;

/**
 * A parameter typed `ObjectRef<V>` takes `keepRef(ref)` (a `KeptRef<V>`): the actor receives
 * the ref itself. (A plain ref there would be resolved: the actor would get the value.)
 *
 * @example
 * ```ts
 * // sync(weights: ObjectRef<Tensor[]>): Promise<void>
 * sampler.sync.remote(keepRef(trainer.publish.remote()));
 * ```
 */
type KeptParam<T> = T extends ObjectRef<infer V> ? KeptRef<V> : never;

/** The arguments of a remote call for parameters `P`: each one a {@link MaybeRef}. */
export type RemoteArgs<P extends readonly unknown[]> = { [K in keyof P]: MaybeRef<P[K]> };
