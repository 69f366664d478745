/**
 * The 'cuda' DeviceBackend this package registers with core: device memory from the caching
 * allocator, copies and fills on the addon's lanes (off the JavaScript thread; the synchronous
 * SPI methods wait for them), memory of other libraries checked with the driver, and the probe
 * that `npx tensorwire doctor` shows.
 */
import {
  InvalidArgumentError,
  TensorwireError,
  type DeviceBackend,
  type DeviceBuffer,
  type DeviceCopyOptions,
  type DeviceInfo,
  type DeviceProbe,
} from '@tensorwire/core';
import { CachingAllocator } from './allocator/caching-allocator';
import type { CudaMemoryStats } from './allocator/memory-stats';
import { openDriver, requireDriver } from './driver';
import { fromNative } from './errors';
import type { NativeBinding, NativeStreamOptions } from './native';
import { nativeStreamFor } from './stream';

function hex(p: bigint): string {
  return `0x${p.toString(16)}`;
}

/** Runs a native call, turning its error into this package's typed error. */
function call<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw fromNative(err, what);
  }
}

/** The element bytes of a fill, as the 64-bit little-endian pattern the addon takes. */
function patternOf(element: Uint8Array): bigint {
  let v = 0n;
  for (let i = element.byteLength - 1; i >= 0; i--) v = (v << 8n) | BigInt(element[i] as number);
  return v;
}

export class CudaBackend implements DeviceBackend {
  readonly allocator = new CachingAllocator(() => requireDriver());
  private count: number | undefined;

  deviceCount(): number {
    if (this.count === undefined) {
      const binding = requireDriver();
      this.count = call('counting CUDA devices', () => binding.deviceCount());
    }
    return this.count;
  }

  allocate(deviceIndex: number, nbytes: number): DeviceBuffer {
    this.checkDevice(deviceIndex, 'allocate');
    try {
      return this.allocator.allocate(deviceIndex, nbytes);
    } catch (err) {
      if (err instanceof TensorwireError) throw err;
      throw fromNative(err, `allocating ${nbytes} bytes on cuda:${deviceIndex}`);
    }
  }

  free(buffer: DeviceBuffer): void {
    this.allocator.release(buffer);
  }

  copyFromHost(dst: DeviceBuffer, src: Uint8Array): void {
    this.checkFits(src.byteLength, dst, 'copyFromHost');
    const b = requireDriver();
    call(`copying ${src.byteLength} bytes to cuda:${dst.deviceIndex}`, () => b.copyHtoD(dst.deviceIndex, dst.devicePtr, src, { sync: true }));
  }

  copyToHost(src: DeviceBuffer, dst: Uint8Array): void {
    this.checkFits(dst.byteLength, src, 'copyToHost');
    const b = requireDriver();
    call(`copying ${dst.byteLength} bytes from cuda:${src.deviceIndex}`, () => b.copyDtoH(src.deviceIndex, dst, src.devicePtr, { sync: true }));
  }

  copyDeviceToDevice(src: DeviceBuffer, dst: DeviceBuffer): void {
    this.checkFits(src.nbytes, dst, 'copyDeviceToDevice');
    const b = requireDriver();
    call(`copying ${src.nbytes} bytes from cuda:${src.deviceIndex} to cuda:${dst.deviceIndex}`, () =>
      b.copyDtoD(dst.deviceIndex, dst.devicePtr, src.deviceIndex, src.devicePtr, src.nbytes, { sync: true }),
    );
  }

  fill(dst: DeviceBuffer, element: Uint8Array): void {
    const size = element.byteLength;
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
      throw new InvalidArgumentError(`fill: an element has 1, 2, 4 or 8 bytes, got ${size}`);
    }
    if (dst.nbytes % size !== 0) throw new InvalidArgumentError(`fill: ${dst.nbytes} bytes is not a whole number of ${size}-byte elements`);
    const b = requireDriver();
    call(`filling ${dst.nbytes} bytes on cuda:${dst.deviceIndex}`, () =>
      b.fill(dst.deviceIndex, dst.devicePtr, size, patternOf(element), dst.nbytes / size, { sync: true }),
    );
  }

  async copyFromHostAsync(dst: DeviceBuffer, src: Uint8Array, options?: DeviceCopyOptions): Promise<void> {
    this.checkFits(src.byteLength, dst, 'copyFromHostAsync');
    const o = this.streamOptions(options, 'copyFromHostAsync');
    await this.using([dst], `copying ${src.byteLength} bytes to cuda:${dst.deviceIndex}`, (b) =>
      b.copyHtoD(dst.deviceIndex, dst.devicePtr, src, o),
    );
  }

  async copyToHostAsync(src: DeviceBuffer, dst: Uint8Array, options?: DeviceCopyOptions): Promise<void> {
    this.checkFits(dst.byteLength, src, 'copyToHostAsync');
    const o = this.streamOptions(options, 'copyToHostAsync');
    await this.using([src], `copying ${dst.byteLength} bytes from cuda:${src.deviceIndex}`, (b) =>
      b.copyDtoH(src.deviceIndex, dst, src.devicePtr, o),
    );
  }

  async copyDeviceToDeviceAsync(src: DeviceBuffer, dst: DeviceBuffer, options?: DeviceCopyOptions): Promise<void> {
    this.checkFits(src.nbytes, dst, 'copyDeviceToDeviceAsync');
    const o = this.streamOptions(options, 'copyDeviceToDeviceAsync');
    await this.using([src, dst], `copying ${src.nbytes} bytes from cuda:${src.deviceIndex} to cuda:${dst.deviceIndex}`, (b) =>
      b.copyDtoD(dst.deviceIndex, dst.devicePtr, src.deviceIndex, src.devicePtr, src.nbytes, o),
    );
  }

  wrap(devicePtr: bigint, nbytes: number, deviceIndex: number): DeviceBuffer {
    this.checkDevice(deviceIndex, 'Tensor.fromDevicePointer');
    const b = requireDriver();
    const where = `Tensor.fromDevicePointer(${hex(devicePtr)}, ${nbytes} bytes, cuda:${deviceIndex})`;
    if (nbytes > 0 || devicePtr !== 0n) {
      const owner = b.pointerDevice(devicePtr);
      if (owner < 0) throw new InvalidArgumentError(`${where}: the driver does not know this address as device memory (a host pointer, or memory already freed?)`);
      if (owner !== deviceIndex) throw new InvalidArgumentError(`${where}: the memory is on cuda:${owner}; pass { device: 'cuda:${owner}' }`);
      const range = call(where, () => b.addressRange(deviceIndex, devicePtr));
      if (devicePtr + BigInt(nbytes) > range.base + BigInt(range.size)) {
        throw new InvalidArgumentError(
          `${where}: the tensor would run past the end of its allocation (${hex(range.base)}, ${range.size} bytes); check the shape and dtype`,
        );
      }
    }
    return { devicePtr, nbytes, deviceIndex };
  }

  memoryStats(): CudaMemoryStats[] {
    return this.allocator.stats();
  }

  async probe(): Promise<DeviceProbe> {
    const s = openDriver();
    if (!s.binding) return { available: false, detail: s.error?.detail ?? 'unknown', ...(s.error?.fix ? { fix: s.error.fix } : {}), devices: [] };
    const b = s.binding;
    try {
      const version = b.driverVersion();
      const devices: DeviceInfo[] = [];
      for (let i = 0; i < b.deviceCount(); i++) {
        const p = b.deviceProperties(i);
        const m = b.memGetInfo(i);
        devices.push({ index: i, name: p.name, totalBytes: m.totalBytes, freeBytes: m.freeBytes });
      }
      const mock = b.isMock() ? ', the mock driver: it proves the code paths, not a GPU' : '';
      return {
        available: devices.length > 0,
        detail: `CUDA driver ${Math.floor(version / 1000)}.${Math.floor((version % 1000) / 10)} (${s.libraryPath}${mock}), ${devices.length} device(s)`,
        devices,
      };
    } catch (err) {
      return { available: false, detail: `the CUDA driver answered with an error: ${(err as Error).message}`, devices: [] };
    }
  }

  private checkDevice(deviceIndex: number, what: string): void {
    const count = this.deviceCount();
    if (!Number.isInteger(deviceIndex) || deviceIndex < 0 || deviceIndex >= count) {
      throw new InvalidArgumentError(`${what}: cuda:${deviceIndex} does not exist: this process sees ${count} CUDA device(s)`);
    }
  }

  private checkFits(bytes: number, buffer: DeviceBuffer, what: string): void {
    if (bytes > buffer.nbytes) {
      throw new InvalidArgumentError(`${what}: ${bytes} bytes do not fit in a device buffer of ${buffer.nbytes} bytes`);
    }
  }

  private streamOptions(options: DeviceCopyOptions | undefined, what: string): NativeStreamOptions {
    const stream = nativeStreamFor(options?.stream, what);
    return stream ? { stream } : {};
  }

  /** Runs an async native operation while `buffers` are marked in use (a release waits for it). */
  private async using(buffers: DeviceBuffer[], what: string, op: (b: NativeBinding) => Promise<void> | undefined): Promise<void> {
    const b = requireDriver();
    for (const buf of buffers) this.allocator.beginUse(buf);
    try {
      await call(what, () => op(b));
    } catch (err) {
      throw fromNative(err, what);
    } finally {
      for (const buf of buffers) this.allocator.endUse(buf);
    }
  }
}

/** The backend of this process (registered with core by index.ts). */
export const cudaBackend = new CudaBackend();
