/**
 * `@tensorwire/cuda/internal`: the driver operations a CUDA transport builds on (CUDA IPC between
 * actor processes on one machine), and which tests use directly. Not a stable user API: its shape
 * follows what the transports of this project need. Every function works against the mock driver
 * too (IPC handles really cross processes there).
 *
 * The producer side of a CUDA IPC transfer:
 * ```ts
 * import { allocationOf, ipcMemHandle, Event } from '@tensorwire/cuda/internal';
 * const { base, offset } = allocationOf(t.deviceBuffer!);      // IPC handles name whole allocations
 * const handle = ipcMemHandle(t.deviceBuffer!.deviceIndex, base);
 * const ready = new Event(0, { interprocess: true });
 * await ready.record();                                        // after the work that made t
 * send({ handle, offset, nbytes: t.nbytes, event: ready.ipcHandle() });
 * ```
 * The consumer side:
 * ```ts
 * const base = openIpcMemHandle(0, msg.handle);                // once per handle: cache it
 * const ready = Event.fromIpcHandle(0, msg.event);
 * const into = Tensor.empty(shape, dtype, { device: 'cuda:0' });
 * await copyDeviceToDevice({ device: 0, ptr: into.devicePtr! }, { device: 0, ptr: base + BigInt(msg.offset) }, msg.nbytes, { after: [ready] });
 * closeIpcMemHandle(0, base);                                  // when the producer frees the object
 * ```
 * Processes see devices through their own CUDA_VISIBLE_DEVICES, so a device index means nothing
 * in another process: send `deviceIdentity(d)` and find the device with `deviceWithIdentity`.
 * When the memory lies on another device than the one written to, `copyBetweenDevices` copies
 * peer to peer where the devices allow it and through host memory otherwise.
 */
import { InvalidArgumentError, type DeviceBuffer } from '@tensorwire/core';
import { cudaBackend } from '../backend';
import { requireDriver } from '../driver';
import { fromNative } from '../errors';
import type { NativeEvent, NativeStreamOptions } from '../native';
import { deviceIndexOf, nativeStreamOf, Stream } from '../stream';

export { Stream, nativeStreamOf, requireDriver };
export { openDriver, driverLibraryPath } from '../driver';
export { CachingAllocator, CudaBuffer } from '../allocator/caching-allocator';
export { roundSize, segmentSize, SMALL_LIMIT, SMALL_SEGMENT, LARGE_SEGMENT, MID_LIMIT } from '../allocator/size-classes';
export type { NativeBinding } from '../native';
export { allocPinned, cudaHostApi, type CudaHostApi } from './pinned';

function call<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw fromNative(err, what);
  }
}

async function callAsync(what: string, f: () => Promise<void> | undefined): Promise<void> {
  try {
    await f();
  } catch (err) {
    throw fromNative(err, what);
  }
}

/** Where memory lies in its allocation (what cuMemGetAddressRange tells). */
export interface AllocationRange {
  /** Start of the allocation (what cuMemAlloc returned; what an IPC handle names). */
  readonly base: bigint;
  /** Bytes of the allocation. */
  readonly size: number;
  /** Offset of the pointer asked about from `base`. */
  readonly offset: number;
}

/**
 * The allocation holding a device buffer (a tensor's `deviceBuffer`) or pointer. Tensors from
 * the caching allocator are blocks inside larger allocations: an IPC handle names the allocation,
 * so the consumer adds `offset` to the base it opens.
 */
export function allocationOf(buffer: DeviceBuffer | { deviceIndex: number; devicePtr: bigint }): AllocationRange {
  const b = requireDriver();
  const r = call(`allocationOf(0x${buffer.devicePtr.toString(16)})`, () => b.addressRange(buffer.deviceIndex, buffer.devicePtr));
  return { base: r.base, size: r.size, offset: Number(buffer.devicePtr - r.base) };
}

/** The device a pointer belongs to, or -1 when the driver does not know it as device memory. */
export function pointerDevice(ptr: bigint): number {
  const b = requireDriver();
  return call('pointerDevice', () => b.pointerDevice(ptr));
}

const identities = new Map<number, string>();

/**
 * A name of `device` that is the same in every process of the machine, whatever their
 * CUDA_VISIBLE_DEVICES: its PCI address, 'domain:bus:device' in hex (e.g. '0000:3b:00').
 */
export function deviceIdentity(device: number | string): string {
  const d = deviceIndexOf(device, 'deviceIdentity');
  let id = identities.get(d);
  if (id === undefined) {
    const b = requireDriver();
    const p = call(`deviceIdentity(cuda:${d})`, () => b.deviceProperties(d));
    const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
    id = `${hex(p.pciDomainId, 4)}:${hex(p.pciBusId, 2)}:${hex(p.pciDeviceId, 2)}`;
    identities.set(d, id);
  }
  return id;
}

/** The index in this process of the device that `deviceIdentity` named elsewhere, or -1 when this process does not see it. */
export function deviceWithIdentity(identity: string): number {
  const count = cudaBackend.deviceCount();
  for (let d = 0; d < count; d++) if (deviceIdentity(d) === identity) return d;
  return -1;
}

/**
 * Whether `device` can read and write `peer`'s memory directly (cuDeviceCanAccessPeer: NVLink or
 * PCIe peer-to-peer). True for a device and itself.
 */
export function canAccessPeer(device: number | string, peer: number | string): boolean {
  const d = deviceIndexOf(device, 'canAccessPeer');
  const p = deviceIndexOf(peer, 'canAccessPeer');
  const b = requireDriver();
  return call(`canAccessPeer(cuda:${d}, cuda:${p})`, () => b.canAccessPeer(d, p));
}

const peersEnabled = new Set<string>();

/**
 * Enables direct access from `device`'s context to `peer`'s memory (cuCtxEnablePeerAccess), once
 * per pair and process; copies between the two then go peer to peer. Throws a CudaError
 * (CUDA_ERROR_PEER_ACCESS_UNSUPPORTED) when the devices cannot: check `canAccessPeer` first.
 */
export function enablePeerAccess(device: number | string, peer: number | string): void {
  const d = deviceIndexOf(device, 'enablePeerAccess');
  const p = deviceIndexOf(peer, 'enablePeerAccess');
  const key = `${d}>${p}`;
  if (d === p || peersEnabled.has(key)) return;
  const b = requireDriver();
  call(`enablePeerAccess(cuda:${d} -> cuda:${p})`, () => b.enablePeerAccess(d, p));
  peersEnabled.add(key);
}

/** A 64-byte IPC handle to the allocation holding `ptr` on `device` (cuIpcGetMemHandle). */
export function ipcMemHandle(device: number | string, ptr: bigint): Buffer {
  const d = deviceIndexOf(device, 'ipcMemHandle');
  const b = requireDriver();
  return call(`ipcMemHandle(cuda:${d}, 0x${ptr.toString(16)})`, () => b.ipcGetMemHandle(d, ptr));
}

/**
 * Maps another process's allocation here (cuIpcOpenMemHandle) and returns its base address.
 * Opening the same handle again returns the same address (the driver counts the opens); each open
 * needs a close. The exporting process must be another one, alive, and still hold the memory.
 */
export function openIpcMemHandle(device: number | string, handle: Uint8Array): bigint {
  const d = deviceIndexOf(device, 'openIpcMemHandle');
  const b = requireDriver();
  return call(`openIpcMemHandle(cuda:${d})`, () => b.ipcOpenMemHandle(d, handle));
}

/** Undoes one openIpcMemHandle of `base`. */
export function closeIpcMemHandle(device: number | string, base: bigint): void {
  const d = deviceIndexOf(device, 'closeIpcMemHandle');
  const b = requireDriver();
  call(`closeIpcMemHandle(cuda:${d}, 0x${base.toString(16)})`, () => b.ipcCloseMemHandle(d, base));
}

/** Options of the stream operations below. */
export interface StreamOpOptions {
  /** Run on this stream (of the device written to); the device's default stream when omitted. */
  readonly stream?: Stream;
  /** Wait (on the GPU) for the last record of each event submitted before this call (JavaScript order). */
  readonly after?: readonly Event[];
  /** Record this event right after the operation (e.g. an interprocess event another process waits for). */
  readonly record?: Event;
}

function nativeOptions(o: StreamOpOptions | undefined): NativeStreamOptions {
  const out: NativeStreamOptions = {};
  if (o?.stream) out.stream = nativeStreamOf(o.stream);
  if (o?.after) out.after = o.after.map(nativeEventOf);
  if (o?.record) out.record = nativeEventOf(o.record);
  return out;
}

/** A device address on a device. */
export interface DevicePointer {
  readonly device: number;
  readonly ptr: bigint;
}

/**
 * Copies `bytes` from `src` to `dst` (device to device, on `dst`'s device; across devices with a
 * peer copy) off the JavaScript thread, ordered on `options.stream` after `options.after`.
 * Resolves when the bytes are in place. Keep both memories alive until then.
 */
export function copyDeviceToDevice(dst: DevicePointer, src: DevicePointer, bytes: number, options?: StreamOpOptions): Promise<void> {
  const b = requireDriver();
  return callAsync(`copyDeviceToDevice(${bytes} bytes, cuda:${src.device} -> cuda:${dst.device})`, () =>
    b.copyDtoD(dst.device, dst.ptr, src.device, src.ptr, bytes, nativeOptions(options)),
  );
}

/** How {@link copyBetweenDevices} moved the bytes. */
export type CopyRoute = 'device' | 'peer' | 'host';

/** Options of {@link copyBetweenDevices}. */
export interface CopyBetweenDevicesOptions extends StreamOpOptions {
  /** Bytes staged at a time on the host route (default 64 MiB). */
  readonly chunkBytes?: number;
  /** Host route: the stream (of `src`'s device) that copies to the host; its default stream when omitted. */
  readonly sourceStream?: Stream;
}

/** Host memory staged at a time on the host route of copyBetweenDevices. */
export const DEFAULT_STAGING_CHUNK = 64 * 2 ** 20;

/**
 * Copies `bytes` from `src` to `dst` whatever devices they are on, off the JavaScript thread:
 * on one device a device-to-device copy; across devices that can access each other
 * (`canAccessPeer`) a peer copy, with peer access enabled once per pair; across devices that
 * cannot, through host memory (a device-to-host copy on `options.sourceStream` of `src`'s device,
 * after `options.after`, then a host-to-device copy on `options.stream`, in chunks of
 * `options.chunkBytes`). Resolves
 * with the route taken once the bytes are in place. Keep both memories alive until then.
 *
 * @example
 * ```ts
 * const route = await copyBetweenDevices({ device: 0, ptr: dst }, { device: 1, ptr: src }, nbytes, { after: [ready] });
 * ```
 */
export async function copyBetweenDevices(
  dst: DevicePointer, src: DevicePointer, bytes: number, options: CopyBetweenDevicesOptions = {},
): Promise<CopyRoute> {
  const route: CopyRoute = dst.device === src.device ? 'device' : canAccessPeer(dst.device, src.device) ? 'peer' : 'host';
  if (route === 'peer') enablePeerAccess(dst.device, src.device);
  if (route !== 'host' || bytes === 0) {
    await copyDeviceToDevice(dst, src, bytes, options);
    return route;
  }
  const chunk = Math.min(bytes, Math.max(1, options.chunkBytes ?? DEFAULT_STAGING_CHUNK));
  const staging = Buffer.allocUnsafeSlow(chunk);
  for (let done = 0; done < bytes; done += chunk) {
    const view = staging.subarray(0, Math.min(chunk, bytes - done));
    const at = BigInt(done);
    // The first chunk waits for `after`; the last records `record`.
    await copyDeviceToHost(view, { device: src.device, ptr: src.ptr + at }, { stream: options.sourceStream, after: done === 0 ? options.after : undefined });
    const last = done + view.byteLength >= bytes;
    await copyHostToDevice({ device: dst.device, ptr: dst.ptr + at }, view, { stream: options.stream, record: last ? options.record : undefined });
  }
  return 'host';
}

/** Copies `src` into device memory at `dst`, off the JavaScript thread (see copyDeviceToDevice). */
export function copyHostToDevice(dst: DevicePointer, src: Uint8Array, options?: StreamOpOptions): Promise<void> {
  const b = requireDriver();
  return callAsync(`copyHostToDevice(${src.byteLength} bytes -> cuda:${dst.device})`, () => b.copyHtoD(dst.device, dst.ptr, src, nativeOptions(options)));
}

/** Copies device memory at `src` into `dst`, off the JavaScript thread (see copyDeviceToDevice). */
export function copyDeviceToHost(dst: Uint8Array, src: DevicePointer, options?: StreamOpOptions): Promise<void> {
  const b = requireDriver();
  return callAsync(`copyDeviceToHost(cuda:${src.device} -> ${dst.byteLength} bytes)`, () => b.copyDtoH(src.device, dst, src.ptr, nativeOptions(options)));
}

/**
 * Keeps `buffer`'s block from going back to the caching allocator until the returned function
 * is called, even if its tensor is released or collected meanwhile (e.g. while another process
 * reads it through an IPC handle).
 */
export function holdBuffer(buffer: DeviceBuffer): () => void {
  cudaBackend.allocator.beginUse(buffer);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    cudaBackend.allocator.endUse(buffer);
  };
}

const natives = new WeakMap<Event, NativeEvent>();

/** The addon's event behind an Event. */
export function nativeEventOf(event: Event): NativeEvent {
  const n = natives.get(event);
  if (!n) throw new InvalidArgumentError('expected an Event made by @tensorwire/cuda/internal');
  return n;
}

/**
 * A CUDA event (without timing). `{ interprocess: true }` makes one another process can wait for
 * through `ipcHandle()` / `Event.fromIpcHandle()`.
 */
export class Event {
  /** Opens an event another process made with { interprocess: true } (cuIpcOpenEventHandle). */
  static fromIpcHandle(device: number | string, handle: Uint8Array): Event {
    const d = deviceIndexOf(device, 'Event.fromIpcHandle');
    const b = requireDriver();
    const native = call(`Event.fromIpcHandle(cuda:${d})`, () => b.Event.fromIpcHandle(d, handle));
    return new Event(d, {}, native);
  }

  readonly deviceIndex: number;

  constructor(device: number | string = 0, options: { interprocess?: boolean; blockingSync?: boolean } = {}, native?: NativeEvent) {
    this.deviceIndex = deviceIndexOf(device, 'new Event()');
    if (native) natives.set(this, native);
    else {
      const b = requireDriver();
      natives.set(this, call(`new Event(cuda:${this.deviceIndex})`, () => new b.Event(this.deviceIndex, options)));
    }
  }

  get interprocess(): boolean {
    return nativeEventOf(this).interprocess;
  }

  /** True for an event opened from another process's handle. */
  get imported(): boolean {
    return nativeEventOf(this).imported;
  }

  /**
   * Records the event on `options.stream` (the default stream) after the work submitted to it
   * before; resolves when that work has run. Operations submitted later with `after: [event]`
   * wait for this record, whichever stream they run on.
   */
  record(options?: { stream?: Stream; after?: readonly Event[] }): Promise<void> {
    return callAsync('event.record', () => nativeEventOf(this).record(nativeOptions(options)));
  }

  /** True when the work before the last record has run. */
  query(): boolean {
    return call('event.query', () => nativeEventOf(this).query());
  }

  /** Resolves when the work before the last record has run (waits off the JavaScript thread). */
  synchronize(): Promise<void> {
    return callAsync('event.synchronize', () => nativeEventOf(this).synchronize());
  }

  /** 64 bytes another process passes to Event.fromIpcHandle (interprocess events only). */
  ipcHandle(): Buffer {
    return call('event.ipcHandle', () => nativeEventOf(this).ipcHandle());
  }

  /**
   * Lets the CUDA event go now (once the operations already submitted with it have run) rather
   * than when the Event is garbage-collected; for an opened event, this releases the import.
   * Any later use throws. Idempotent.
   */
  destroy(): void {
    nativeEventOf(this).destroy();
  }

  /** True after destroy(). */
  get destroyed(): boolean {
    return nativeEventOf(this).destroyed;
  }
}
