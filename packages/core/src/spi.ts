/**
 * `@tensorwire/core/spi`: what a transport package needs, and nothing else. A transport author
 * imports from here (the types of the tensor transport SPI, the TransportError contract,
 * `registerTransport`); users import `@tensorwire/core`.
 *
 * @example
 * ```ts
 * import { registerTransport, TransportError, type OneSidedTransportPlugin } from '@tensorwire/core/spi';
 * ```
 * The rules a transport keeps are written at the top of the SPI's types (`transport/spi.d.ts`);
 * `@tensorwire/conformance` checks them.
 */
export * from './transport/spi';
export { registerTransport, getTransport, hasTransport, listTransports, registeredTransports, OBJECT_STORE, type RegisteredTransport } from './transport/registry';
export { TensorwireError } from './errors/errors';
