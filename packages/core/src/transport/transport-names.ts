/**
 * Tensor transport names: the type that transport packages extend, and the checks of a name at
 * the two moments that matter. When a class is defined only typos are rejected: the transport's
 * package may be imported later in the file, or not be usable on this machine at all, and
 * neither should stop a module from loading. When a transport must really work (a call, `get`,
 * `put`, a group) the name must be registered.
 */
import { didYouMean } from '../errors/did-you-mean';
import { InvalidArgumentError, InvalidTransportError, KNOWN_TRANSPORT_NAMES } from '../errors/errors';
import { hasTransport, OBJECT_STORE, registeredTransports } from './registry';

/**
 * The tensor transport names this program knows of, as keys. Core declares 'object-store';
 * each transport package adds its own name by module augmentation in its public index, so
 * importing `@tensorwire/gloo` makes `tensorTransport: 'gloo'` compile and `'Gloo'` fail.
 *
 * @example
 * ```ts
 * // in a transport package's index.ts (next to its registerTransport call)
 * declare module '@tensorwire/core' {
 *   interface TensorTransports {
 *     'acme-rdma': true;
 *   }
 * }
 * ```
 */
export interface TensorTransports {
  'object-store': true;
}

/** A tensor transport name: 'object-store' or one a transport package declared in {@link TensorTransports}. */
export type TensorTransportName = Extract<keyof TensorTransports, string>;

/** A transport that collective groups can use (every name but 'object-store'). */
export type CollectiveBackendName = Exclude<TensorTransportName, 'object-store'>;

function requireNonEmptyString(name: unknown, what: string): asserts name is string {
  if (typeof name !== 'string' || !name) {
    throw new InvalidArgumentError(`${what} must be a transport name string such as 'gloo' or 'object-store', got ${JSON.stringify(name) ?? String(name)}`);
  }
}

/**
 * The check made when a class is defined (`@method({ tensorTransport })`): rejects only names
 * that can never be valid, i.e. not strings, or a typo of a registered or known name ('Gloo',
 * 'nixll'). Any other name may be registered later and is checked when it is used.
 */
export function checkTransportNameAtDefinition(name: unknown, where = '@method()'): void {
  if (name === undefined) return;
  requireNonEmptyString(name, `${where}: tensorTransport`);
  if (name === OBJECT_STORE) return;
  const registered = registeredTransports();
  if (registered.includes(name)) return;
  if (didYouMean(name, [...registered, ...KNOWN_TRANSPORT_NAMES])) throw new InvalidTransportError(name, registered, where);
}

/**
 * The check made where a transport must work: 'object-store' or a transport registered in
 * this process. `where` says what asked (e.g. 'sender.weights.remote()') in the error.
 */
export function validateTransportName(name: unknown, where?: string): void {
  if (name === undefined || name === OBJECT_STORE) return;
  requireNonEmptyString(name, where ? `${where}: tensorTransport` : 'tensorTransport');
  if (!hasTransport(name)) throw new InvalidTransportError(name, registeredTransports(), where);
}

/**
 * A transport name known only at run time (a command-line flag, a config file) as a
 * {@link TensorTransportName}: checked to be 'object-store' or a registered transport
 * (InvalidTransportError otherwise, with a did-you-mean hint).
 *
 * @example
 * ```ts
 * const transport = transportName(process.env.TRANSPORT ?? 'gloo');
 * const ref = producer.weights.options({ tensorTransport: transport }).remote();
 * ```
 */
export function transportName(name: string): TensorTransportName {
  validateTransportName(name, 'transportName()');
  return name as TensorTransportName;
}
