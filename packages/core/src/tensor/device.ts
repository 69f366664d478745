/**
 * Devices ('cpu', 'cuda:N') and the hook through which a device package gives core access to
 * device memory (`registerDeviceBackend`). Core has no CUDA code and no CUDA package is
 * published yet: without a registered backend, anything that needs a CUDA tensor fails with
 * an error that says so and what to do instead.
 */
import { InvalidArgumentError, TransportUnavailableError } from '../errors/errors';

/** Kinds of device a tensor can live on. */
export type DeviceKind = 'cpu' | 'cuda';

/** A parsed device string. */
export interface ParsedDevice {
  readonly kind: DeviceKind;
  /** Device index; 0 for 'cpu'. */
  readonly index: number;
  /** Canonical name: 'cpu' or 'cuda:N'. */
  readonly name: string;
}

/** A block of device memory allocated by a {@link DeviceBackend}. */
export interface DeviceBuffer {
  /** Address of the first byte on the device. */
  readonly devicePtr: bigint;
  readonly nbytes: number;
  /** Device index the memory lives on. */
  readonly deviceIndex: number;
}

/** What a device package implements so core can create and move device tensors. */
export interface DeviceBackend {
  /** Number of devices of this kind visible to this process. */
  deviceCount(): number;
  /** Allocate `nbytes` (may be 0) on device `deviceIndex`. */
  allocate(deviceIndex: number, nbytes: number): DeviceBuffer;
  /** Copy `src.byteLength` bytes from host memory to the start of `dst`. */
  copyFromHost(dst: DeviceBuffer, src: Uint8Array): void;
  /** Copy `dst.byteLength` bytes from the start of `src` into host memory. */
  copyToHost(src: DeviceBuffer, dst: Uint8Array): void;
  /** Device-to-device copy of `src.nbytes` bytes; when absent, core copies through the host. */
  copyDeviceToDevice?(src: DeviceBuffer, dst: DeviceBuffer): void;
}

const backends = new Map<Exclude<DeviceKind, 'cpu'>, DeviceBackend>();

/**
 * Register (or replace) the backend for a device kind: what a CUDA device package calls on
 * import (none is published yet; an application may register its own).
 *
 * @example
 * ```ts
 * registerDeviceBackend('cuda', myCudaBackend); // implements DeviceBackend
 * const t = Tensor.ones([4]).cuda();
 * ```
 */
export function registerDeviceBackend(kind: 'cuda', backend: DeviceBackend): void {
  backends.set(kind, backend);
}

/** Remove the backend for `kind` (tests). */
export function unregisterDeviceBackend(kind: 'cuda'): void {
  backends.delete(kind);
}

/** The registered backend for `kind`, if any. */
export function getDeviceBackend(kind: 'cuda'): DeviceBackend | undefined {
  return backends.get(kind);
}

/** The backend for `kind`, or a TransportUnavailableError that says how to get one. */
export function requireDeviceBackend(kind: 'cuda'): DeviceBackend {
  const backend = backends.get(kind);
  if (!backend) {
    throw new TransportUnavailableError(
      'cuda',
      'CUDA tensors need a CUDA device backend, and none is registered in this process (tensorwire publishes no CUDA package yet)',
      "keep tensors on 'cpu', or register a backend that implements DeviceBackend with registerDeviceBackend('cuda', backend) before creating CUDA tensors",
    );
  }
  return backend;
}

/** Parse 'cpu', 'cuda' (= 'cuda:0') or 'cuda:N'. */
export function parseDevice(device: string): ParsedDevice {
  if (device === 'cpu') return { kind: 'cpu', index: 0, name: 'cpu' };
  const m = /^cuda(?::(\d+))?$/.exec(device);
  if (m) {
    const index = m[1] === undefined ? 0 : Number(m[1]);
    return { kind: 'cuda', index, name: `cuda:${index}` };
  }
  throw new InvalidArgumentError(`unknown device ${JSON.stringify(device)}; expected 'cpu', 'cuda' or 'cuda:N'`);
}

/** The backend for a CUDA device, checking that the device index exists. */
export function backendFor(device: ParsedDevice): DeviceBackend {
  const backend = requireDeviceBackend('cuda');
  const count = backend.deviceCount();
  if (device.index >= count) {
    throw new InvalidArgumentError(`${device.name} does not exist: this process sees ${count} CUDA device(s)`);
  }
  return backend;
}
