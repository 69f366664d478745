/**
 * Actor handles: typed proxies whose methods have `.remote(...)` and `.options({...}).remote(...)`.
 * A handle is plain data underneath (ActorInfo), so it can be passed to other actors, which
 * call it through the driver.
 */
import { InvalidArgumentError } from '../errors/errors';
import type { ObjectRef } from '../objects/object-ref';
import { requireContext, type CallOptions } from '../runtime/context';
import type { ActorInfo } from '../runtime/actor-info';
import { validateTransportName } from '../transport/transport-names';
import { checkGroupName } from '../runtime/validate';

import type { RemoteArgs } from './remote-args';

type AnyFn = (...args: any[]) => any;

/** A remote method of an actor. */
export interface RemoteMethod<F extends AnyFn> {
  /**
   * Call the method in the actor; returns at once with a ref to the result. Any argument, or
   * any part of one, may be an `ObjectRef` to a value of its type: the actor receives the value.
   */
  remote(...args: RemoteArgs<Parameters<F>>): ObjectRef<Awaited<ReturnType<F>>>;
  /** Per-call options, e.g. `.options({ tensorTransport: 'object-store' }).remote()`. */
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
    const call = (options: CallOptions) => (...args: unknown[]) => {
      const what = `${info.name}.${name}.remote()`;
      // The method's own transport is checked here, when it must work, not when the class was
      // defined: its package may have been imported after the class.
      if (options.tensorTransport === undefined) validateTransportName(info.methodTransports?.[name], `${what} (@method of ${info.className})`);
      return requireContext(what).submit(info, name, args, options);
    };
    methods[name] = {
      remote: call({}),
      options(options: CallOptions) {
        if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options() takes an object, e.g. { tensorTransport: "gloo" }');
        validateTransportName(options.tensorTransport, `${info.name}.${name}.options()`);
        checkGroupName(options.collectiveGroup, `${info.name}.${name}.options()`);
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
