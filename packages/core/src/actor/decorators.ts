/**
 * `@actor` and `@method()`: mark a class as an actor and configure its methods.
 * The class's module file is recorded so actor processes can load the very same class.
 *
 * Both decorator styles of TypeScript work: the standard (TC39) decorators that TypeScript 5
 * compiles by default, and the older `experimentalDecorators`. Each decorator looks at how it
 * was called: a standard decorator gets `(value, context)` with `context.kind`, an
 * experimental one `(target)` or `(prototype, key, descriptor)`. Neither style needs
 * `reflect-metadata` or `emitDecoratorMetadata` (core loads reflect-metadata for its own
 * dependency injection).
 */
import { InvalidArgumentError } from '../errors/errors';
import { checkTransportNameAtDefinition, type TensorTransportName } from '../transport/transport-names';
import { checkGroupName } from '../runtime/validate';
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
   * consumers over this transport ('gloo', 'nixl', a third party's: any name a transport
   * package declared, see TensorTransports), or 'object-store' for an ordinary result.
   * Checked for typos when the class is defined; the transport itself must be registered
   * (its package imported) by the time the method is called.
   */
  tensorTransport?: TensorTransportName;
  /**
   * When the actors share several collective groups of the transport: the group that moves
   * this method's GPU-object arguments in and its result's tensors out (a call's
   * `.options({ collectiveGroup })` overrides it).
   *
   * @example
   * ```ts
   * @method({ tensorTransport: 'gloo', collectiveGroup: 'weights' })
   * weights(): Tensor[] { return this.params; }
   * ```
   */
  collectiveGroup?: string;
  /**
   * Keep every tensor this method receives as a GPU-object argument after the call ends. By
   * default those tensors are lent to the call: their memory is reused for the next transfer
   * once the call is over, and they throw if used later (see `keep()` to keep a single one).
   *
   * @example
   * ```ts
   * @method({ keepArgs: true })
   * load(weights: Tensor[]): void { this.weights = weights; }
   * ```
   */
  keepArgs?: boolean;
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

/**
 * Options of methods decorated in the standard style, keyed by the method function itself: a
 * standard method decorator never sees its class (only `context.metadata`, which needs
 * `Symbol.metadata`, missing from Node 20), so `@actor` finds them on the class's prototypes.
 */
const standardMethodOptions = new WeakMap<Function, MethodOptions>();

/** `@actor` as TypeScript calls it, in either decorator style. */
export interface ActorClassDecorator {
  /** experimentalDecorators */
  <C extends Function>(target: C): void;
  /** standard (TC39) decorators */
  <C extends abstract new (...args: any) => any>(value: C, context: ClassDecoratorContext<C>): void;
}

/** `@method()` as TypeScript calls it, in either decorator style. */
export interface ActorMethodDecorator {
  /** experimentalDecorators */
  (target: object, propertyKey: string | symbol, descriptor: PropertyDescriptor): void;
  /** standard (TC39) decorators */
  (value: (this: any, ...args: any) => any, context: ClassMethodDecoratorContext): void;
}

/** A standard decorator's context (an object with `kind`), as opposed to an experimental decorator's key. */
function isStandardContext(x: unknown): x is DecoratorContext {
  return typeof x === 'object' && x !== null && typeof (x as { kind?: unknown }).kind === 'string';
}

/**
 * Marks a class as an actor class, to be started with `spawn`. Written `@actor` or
 * `@actor({ ...options })`.
 *
 * @example
 * ```ts
 * @actor
 * export class Worker {
 *   @method({ tensorTransport: 'gloo' })
 *   randomTensor(): Tensor { return Tensor.randn([1000]); }
 * }
 * ```
 */
export function actor<C extends Function>(target: C): void;
export function actor<C extends abstract new (...args: any) => any>(value: C, context: ClassDecoratorContext<C>): void;
export function actor(options?: ActorOptions): ActorClassDecorator;
export function actor(first?: ActorOptions | Function, context?: unknown): ActorClassDecorator | void {
  if (typeof first === 'function') {
    // Bare `@actor`: TypeScript calls this very function on the class.
    return defineActor(first, {}, callerModuleFile(), context);
  }
  if (first !== undefined && (first === null || typeof first !== 'object')) {
    throw new InvalidArgumentError(`@actor() takes an options object such as { maxConcurrency: 4 }, or nothing; got ${JSON.stringify(first)}`);
  }
  const options = first ?? {};
  const module = options.module ? normalizeModule(options.module) : callerModuleFile();
  return ((target: Function, ctx?: unknown) => defineActor(target, options, module, ctx)) as ActorClassDecorator;
}

function defineActor(target: Function, options: ActorOptions, module: string | undefined, context: unknown): void {
  if (isStandardContext(context) && context.kind !== 'class') {
    throw new InvalidArgumentError(`@actor decorates a class, not a ${context.kind}; use @method() on methods`);
  }
  const t = target as unknown as WithMeta & { name: string };
  const name = isStandardContext(context) && typeof context.name === 'string' ? context.name : t.name;
  const meta: ActorClassMeta = { className: name, module, options, methods: collectMethodOptions(target) };
  Object.defineProperty(target, META, { value: meta, enumerable: false, configurable: true });
  registerActorClass(meta.module, meta.className, target as unknown as Ctor);
}

/** Method options of a class: those recorded by experimental `@method()`s, then standard ones, base classes first. */
function collectMethodOptions(cls: Function): Map<string, MethodOptions> {
  const methods = new Map((cls as WithMeta)[METHOD_META] ?? []);
  const chain: object[] = [];
  for (let p = cls.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) chain.unshift(p);
  for (const proto of chain) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const value = Object.getOwnPropertyDescriptor(proto, key)?.value;
      const options = typeof value === 'function' ? standardMethodOptions.get(value) : undefined;
      if (options) methods.set(key, options);
    }
  }
  return methods;
}

/**
 * Configures an actor method, e.g. its tensor transport. Names that can never be valid (a
 * typo of a known transport: 'Gloo') fail here; others are checked when the method is called,
 * so a transport's package may be imported after the class.
 *
 * @example
 * ```ts
 * @method({ tensorTransport: 'nixl' })
 * weights(): { w: Tensor; b: Tensor } { ... }
 * ```
 */
export function method(options: MethodOptions = {}): ActorMethodDecorator {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(`@method() takes an options object such as { tensorTransport: 'gloo' }, got ${JSON.stringify(options)}`);
  }
  checkTransportNameAtDefinition(options.tensorTransport, '@method()');
  checkGroupName(options.collectiveGroup, '@method()');
  if (options.keepArgs !== undefined && typeof options.keepArgs !== 'boolean') {
    throw new InvalidArgumentError(`@method({ keepArgs }) takes true or false, got ${JSON.stringify(options.keepArgs)}`);
  }
  const own: MethodOptions = { ...options };
  return ((target: object, keyOrContext: string | symbol | DecoratorContext) => {
    if (isStandardContext(keyOrContext)) {
      const c = keyOrContext;
      if (c.kind !== 'method' || c.static || c.private || typeof c.name !== 'string') {
        throw new InvalidArgumentError(`@method() decorates a public instance method with a string name, not ${describeMember(c)}`);
      }
      standardMethodOptions.set(target as Function, own);
      return;
    }
    if (typeof keyOrContext !== 'string') throw new InvalidArgumentError('@method() must decorate a method with a string name');
    const ctor = (target as { constructor: WithMeta }).constructor;
    let map = Object.prototype.hasOwnProperty.call(ctor, METHOD_META) ? ctor[METHOD_META] : undefined;
    if (!map) {
      map = new Map(ctor[METHOD_META] ?? []);
      Object.defineProperty(ctor, METHOD_META, { value: map, enumerable: false });
    }
    map.set(keyOrContext, own);
  }) as ActorMethodDecorator;
}

function describeMember(c: DecoratorContext): string {
  const flags = [('static' in c && c.static) ? 'static' : '', ('private' in c && c.private) ? 'private' : ''].filter(Boolean).join(' ');
  return `a ${flags ? `${flags} ` : ''}${c.kind} ${String(c.name)}`;
}

/** The metadata of an `@actor()` class, or undefined. */
export function actorMeta(cls: unknown): ActorClassMeta | undefined {
  if (typeof cls !== 'function') return undefined;
  return Object.prototype.hasOwnProperty.call(cls, META) ? (cls as WithMeta)[META] : undefined;
}

/** The tensor transports of the methods that declare one other than 'object-store' (for ActorInfo). */
export function methodTransports(meta: ActorClassMeta): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [name, o] of meta.methods) if (o.tensorTransport && o.tensorTransport !== 'object-store') out[name] = o.tensorTransport;
  return Object.keys(out).length ? out : undefined;
}

/** The collective groups the methods name (for ActorInfo). */
export function methodGroups(meta: ActorClassMeta): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [name, o] of meta.methods) if (o.collectiveGroup) out[name] = o.collectiveGroup;
  return Object.keys(out).length ? out : undefined;
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
