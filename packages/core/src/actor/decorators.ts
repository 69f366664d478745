/**
 * `@actor()` and `@method()`: mark a class as an actor and configure its methods.
 * The class's module file is recorded so actor processes can load the very same class.
 */
import { InvalidArgumentError } from '../errors/errors';
import { getTransport, OBJECT_STORE } from '../transport/registry';
import { callerModuleFile } from './caller-module';
import { registerActorClass } from './class-registry';

export interface ActorOptions {
  /**
   * Module that defines the class, when it cannot be found from the call stack (bundlers).
   * ESM: pass `import.meta.url`; CommonJS: `__filename`.
   */
  module?: string;
  /** Default for `spawn(..., { maxConcurrency })`. */
  maxConcurrency?: number;
}

export interface MethodOptions {
  /**
   * Keep the tensors of this method's result in the actor (a GPU object) and move them to
   * consumers over this transport ('gloo', 'nccl', 'nixl', a third party's), or
   * 'object-store' for an ordinary result.
   */
  tensorTransport?: string;
}

/** Metadata stored on an actor class. */
export interface ActorClassMeta {
  readonly className: string;
  /** Absolute path of the defining module, or undefined when it could not be determined. */
  readonly module: string | undefined;
  readonly options: ActorOptions;
  readonly methods: Map<string, MethodOptions>;
}

const META = Symbol.for('tensorwire.actor.meta');
const METHOD_META = Symbol.for('tensorwire.actor.methods');

type Ctor = abstract new (...args: never[]) => unknown;
type WithMeta = { [META]?: ActorClassMeta; [METHOD_META]?: Map<string, MethodOptions> };

/** Throws InvalidTransportError unless `name` is 'object-store' or a registered transport. */
export function validateTransportName(name: unknown): void {
  if (name === undefined || name === OBJECT_STORE) return;
  if (typeof name !== 'string' || !name) {
    throw new InvalidArgumentError(`tensorTransport must be a transport name string, got ${String(name)}`);
  }
  getTransport(name);
}

/**
 * Marks a class as an actor class, to be started with `spawn`.
 *
 * @example
 * ```ts
 * @actor()
 * export class Worker {
 *   @method({ tensorTransport: 'gloo' })
 *   randomTensor(): Tensor { return Tensor.randn([1000]); }
 * }
 * ```
 */
export function actor(options: ActorOptions = {}): ClassDecorator {
  const module = options.module ? normalizeModule(options.module) : callerModuleFile();
  return (target) => {
    const t = target as unknown as WithMeta & { name: string };
    const meta: ActorClassMeta = {
      className: t.name,
      module,
      options,
      methods: t[METHOD_META] ?? new Map(),
    };
    Object.defineProperty(target, META, { value: meta, enumerable: false });
    registerActorClass(meta.module, meta.className, target as unknown as Ctor);
  };
}

/**
 * Configures an actor method, e.g. its tensor transport.
 *
 * @example
 * ```ts
 * @method({ tensorTransport: 'nixl' })
 * weights(): { w: Tensor; b: Tensor } { ... }
 * ```
 */
export function method(options: MethodOptions = {}): MethodDecorator {
  validateTransportName(options.tensorTransport);
  return (target, key) => {
    if (typeof key !== 'string') throw new InvalidArgumentError('@method() must decorate a method with a string name');
    const ctor = (target as { constructor: WithMeta }).constructor;
    let map = Object.prototype.hasOwnProperty.call(ctor, METHOD_META) ? ctor[METHOD_META] : undefined;
    if (!map) {
      map = new Map(ctor[METHOD_META] ?? []);
      Object.defineProperty(ctor, METHOD_META, { value: map, enumerable: false });
    }
    map.set(key, { ...options });
  };
}

/** The metadata of an `@actor()` class, or undefined. */
export function actorMeta(cls: unknown): ActorClassMeta | undefined {
  if (typeof cls !== 'function') return undefined;
  return Object.prototype.hasOwnProperty.call(cls, META) ? (cls as WithMeta)[META] : undefined;
}

/** Names of the callable methods of a class (own and inherited, without the constructor). */
export function methodNames(cls: Function): string[] {
  const names = new Set<string>();
  for (let p = cls.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) {
      if (k === 'constructor' || k.startsWith('__')) continue;
      const d = Object.getOwnPropertyDescriptor(p, k);
      if (d && typeof d.value === 'function') names.add(k);
    }
  }
  return [...names];
}

function normalizeModule(m: string): string {
  return m.startsWith('file://') ? require('node:url').fileURLToPath(m) : m;
}
