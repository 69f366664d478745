/**
 * Actor handles: typed proxies whose methods have `.remote(...)` and `.options({...}).remote(...)`.
 * A handle is plain data underneath (ActorInfo), so it can be passed to other actors, which
 * call it through the driver.
 */
import { InvalidArgumentError } from '../errors/errors';
import type { ObjectRef } from '../objects/object-ref';
import { requireContext, type CallOptions } from '../runtime/context';
import type { ActorInfo } from '../runtime/actor-info';
import { validateTransportName } from './decorators';

type AnyFn = (...args: any[]) => any;

/** An argument may be given as its value or as an ObjectRef to it. */
export type RemoteArgs<P extends unknown[]> = { [K in keyof P]: P[K] | ObjectRef<P[K]> };

/** A remote method of an actor. */
export interface RemoteMethod<F extends AnyFn> {
  /** Call the method in the actor; returns at once with a ref to the result. */
  remote(...args: RemoteArgs<Parameters<F>>): ObjectRef<Awaited<ReturnType<F>>>;
  /** Per-call options, e.g. `.options({ tensorTransport: 'gloo' }).remote()`. */
  options(options: CallOptions): { remote(...args: RemoteArgs<Parameters<F>>): ObjectRef<Awaited<ReturnType<F>>> };
}

/** The handle `spawn` returns: each method of T as a {@link RemoteMethod}. */
export type ActorHandle<T = any> = {
  readonly [K in keyof T as T[K] extends AnyFn ? K : never]: T[K] extends AnyFn ? RemoteMethod<T[K]> : never;
} & {
  /** Unique id of the actor, e.g. 'actor-3'. */
  readonly actorId: string;
  /** The actor's name (given to spawn, or the id). */
  readonly actorName: string;
};

const INFO = Symbol.for('tensorwire.actor.info');

/** Properties that must read as undefined so that handles are not mistaken for thenables etc. */
const PASS_THROUGH = new Set(['then', 'toJSON', 'constructor', 'inspect', 'valueOf', 'asymmetricMatch', '$$typeof', 'nodeType']);

export function makeHandle<T>(info: ActorInfo): ActorHandle<T> {
  const methods: Record<string, RemoteMethod<AnyFn>> = {};
  for (const name of info.methods) {
    const call = (options: CallOptions) => (...args: unknown[]) => requireContext(`${info.name}.${name}.remote()`).submit(info, name, args, options);
    methods[name] = {
      remote: call({}),
      options(options: CallOptions) {
        if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options() takes an object, e.g. { tensorTransport: "gloo" }');
        validateTransportName(options.tensorTransport);
        return { remote: call({ ...options }) };
      },
    };
  }
  const target = Object.assign(Object.create(null), methods, { actorId: info.actorId, actorName: info.name });
  Object.defineProperty(target, INFO, { value: info, enumerable: false });
  Object.defineProperty(target, Symbol.for('nodejs.util.inspect.custom'), {
    value: () => `ActorHandle(${info.className} ${info.name})`,
    enumerable: false,
  });
  return new Proxy(target, {
    get(t, prop) {
      if (typeof prop === 'symbol' || prop in t || PASS_THROUGH.has(prop)) return t[prop];
      throw new InvalidArgumentError(
        `actor class ${info.className} has no method '${prop}'; its methods are: ${info.methods.join(', ') || '(none)'}`,
      );
    },
    set() {
      throw new InvalidArgumentError('actor handles are read-only');
    },
  }) as ActorHandle<T>;
}

/** The ActorInfo behind a handle, or undefined if `x` is not a handle. */
export function handleInfo(x: unknown): ActorInfo | undefined {
  if (x === null || typeof x !== 'object') return undefined;
  try {
    return (x as Record<symbol, ActorInfo | undefined>)[INFO];
  } catch {
    return undefined;
  }
}
