/**
 * Dependency-injection tokens. Every service is resolved by a symbol token with an explicit
 * `@inject(TOKEN)`, never by emitted parameter types, so compiled code and bundlers that drop
 * decorator metadata keep working. Override any of them with `init({ providers })`.
 */
export const TOKENS = {
  /** {@link ObjectStore}: where ordinary (non-GPU) values live. */
  ObjectStore: Symbol.for('tensorwire.ObjectStore'),
  /** {@link Launcher}: starts actor processes. */
  Launcher: Symbol.for('tensorwire.Launcher'),
  /** {@link Serializer}: encodes values for the wire and the store. */
  Serializer: Symbol.for('tensorwire.Serializer'),
  /** {@link Logger}. */
  Logger: Symbol.for('tensorwire.Logger'),
  /** {@link Clock}: time source for deadlines (tests fake it). */
  Clock: Symbol.for('tensorwire.Clock'),
  /** The resolved {@link RuntimeOptions}. */
  Options: Symbol.for('tensorwire.RuntimeOptions'),
} as const;
