/**
 * `@tensorwire/core/spi`: what a transport or device package needs, and nothing else. A
 * transport author imports from here (the types of the tensor transport SPI, the TransportError
 * contract, `registerTransport`); a device package its SPI (`DeviceBackend`,
 * `registerDeviceBackend`, `DeviceUnavailableError`); users import `@tensorwire/core`.
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
export { TensorwireError, DeviceUnavailableError } from './errors/errors';
export { nativeAddonLoader, type NativeAddonSpec } from './transport/native-addon';
export {
  registerDeviceBackend, getDeviceBackend, unregisterDeviceBackend,
  type DeviceBackend, type DeviceBuffer, type DeviceStream, type DeviceCopyOptions, type DeviceMemoryStats,
  type DeviceInfo, type DeviceProbe,
} from './tensor/device';
export { registerLauncher, registeredLaunchers, type LauncherRegistration } from './driver/launcher-registry';
export type { Launcher, LaunchSpec, LaunchedProcess, Placement } from './runtime/launcher-types';
export { ActorDiedError, InvalidArgumentError, RuntimeStateError } from './errors/errors';
export { NETWORK_HOST_ENV, isLoopbackAddress } from './runtime/network-host';
export {
  registerValuePlacement, registeredValuePlacement, unregisterValuePlacement,
  type ValuePlacement, type PlacementConfig,
} from './objects/value-placement';
export type { EncodedValue, PlacedAttachments } from './objects/encoded-value';
export { sizeClass } from './gpu/receive-pool';
