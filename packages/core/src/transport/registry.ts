import type { TransportPlugin } from './spi';
import { InvalidArgumentError, InvalidTransportError } from '../errors/errors';

/** A registered transport: the plugin and the module that registers it (loaded by every actor). */
export interface RegisteredTransport {
  readonly plugin: TransportPlugin;
  /** Module specifier or absolute path that actor processes `require` to register the same plugin. */
  readonly module: string;
}

// Kept on globalThis so that two copies of core in one process (e.g. a plugin with its own
// nested node_modules) still share one registry.
const KEY = Symbol.for('tensorwire.transport.registry');
type Registry = Map<string, RegisteredTransport>;
const g = globalThis as unknown as { [KEY]?: Registry };
const registry: Registry = (g[KEY] ??= new Map());

/** The transport name that means "no tensor transport: use the CPU object store". */
export const OBJECT_STORE = 'object-store';

/**
 * Register a transport plugin in this process. A transport package calls this when imported:
 *
 * @example
 * ```ts
 * registerTransport(glooPlugin, { module: require.resolve('@tensorwire/gloo') });
 * ```
 * `module` is what actor processes load to register the plugin there too.
 */
export function registerTransport(plugin: TransportPlugin, options: { module: string }): void {
  if (!plugin || typeof plugin.name !== 'string' || !plugin.name) {
    throw new InvalidArgumentError('registerTransport: plugin.name must be a non-empty string');
  }
  if (plugin.name === OBJECT_STORE) throw new InvalidArgumentError(`registerTransport: '${OBJECT_STORE}' is reserved`);
  const existing = registry.get(plugin.name);
  if (existing && existing.plugin !== plugin && existing.module !== options.module) {
    throw new InvalidArgumentError(
      `registerTransport: a transport named '${plugin.name}' is already registered from ${existing.module}`,
    );
  }
  registry.set(plugin.name, { plugin, module: options.module });
}

/** Names of the transports registered in this process. */
export function registeredTransports(): string[] {
  return [...registry.keys()].sort();
}

/** Every registered transport. */
export function listTransports(): RegisteredTransport[] {
  return [...registry.values()];
}

/** Look up a transport; throws {@link InvalidTransportError} listing the installed ones. */
export function getTransport(name: string): RegisteredTransport {
  const t = registry.get(name);
  if (!t) throw new InvalidTransportError(name, registeredTransports());
  return t;
}

/** Whether a transport of that name is registered. */
export function hasTransport(name: string): boolean {
  return registry.has(name);
}
