/**
 * Devices ('cpu', 'cuda:N') and the SPI through which a device package gives core access to
 * device memory (`registerDeviceBackend`). Core has no CUDA code and names no device package:
 * without a registered backend, anything that needs a CUDA tensor fails with an error that says
 * so and what to do instead.
 */
import { DeviceUnavailableError, InvalidArgumentError, RuntimeStateError } from '../errors/errors';

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

/**
 * A block of device memory from a {@link DeviceBackend}. Tensors that share memory (views made
 * by `reshape`) share the very same DeviceBuffer object, so the object stays reachable exactly as
 * long as some tensor uses the memory: a backend may return the memory when the object is
 * garbage-collected (e.g. with a FinalizationRegistry).
 */
export interface DeviceBuffer {
  /** Address of the first byte on the device. */
  readonly devicePtr: bigint;
  readonly nbytes: number;
  /** Device index the memory lives on. */
  readonly deviceIndex: number;
}

/**
 * A queue of device work made by the backend (a CUDA stream): operations given the same stream
 * run in the order they were submitted; operations on different streams may overlap. Core only
 * passes streams through to the backend.
 */
export interface DeviceStream {
  readonly deviceIndex: number;
}

/** Options of the asynchronous copies. */
export interface DeviceCopyOptions {
  /** Where to queue the copy; the backend's default stream of the device when omitted. */
  readonly stream?: DeviceStream;
}

/** Memory use on one device, as a backend's allocator counts it (reported by `actorStats`). */
export interface DeviceMemoryStats {
  /** 'cuda:0', ... */
  readonly device: string;
  /** Bytes in blocks that tensors use now. */
  readonly allocatedBytes: number;
  /** Bytes held from the driver: allocated plus cached for reuse. */
  readonly reservedBytes: number;
  /** Highest allocatedBytes since the process started or the peak was reset. */
  readonly peakAllocatedBytes: number;
  /** Highest reservedBytes since the process started or the peak was reset. */
  readonly peakReservedBytes: number;
}

/** One device as `npx tensorwire doctor` shows it. */
export interface DeviceInfo {
  /** Index in this process ('cuda:<index>'). */
  readonly index: number;
  readonly name: string;
  readonly totalBytes: number;
  readonly freeBytes: number;
}

/** What a backend reports about this machine (`DeviceBackend.probe`). Never an exception. */
export interface DeviceProbe {
  readonly available: boolean;
  /** What was found (library, driver version), or what is missing. */
  readonly detail: string;
  /** What to do when not available. */
  readonly fix?: string;
  /** The devices this process sees (empty when not available). */
  readonly devices: readonly DeviceInfo[];
}

/**
 * What a device package implements so core can create and move device tensors. The first four
 * methods are required; the optional ones add what real use needs, and core falls back to the
 * required ones where a backend lacks them:
 * - `free`: `tensor.release()` returns memory at once (else only collection does);
 * - `fill`: zeros/ones/full on the device without a host copy;
 * - the `...Async` copies run off the JavaScript thread and return Promises (`tensor.toAsync()`),
 *   ordered per {@link DeviceStream}; without them `toAsync` runs the synchronous copy;
 * - `wrap`: checks memory made by other libraries (`Tensor.fromDevicePointer`);
 * - `memoryStats`, `probe`: what `actorStats` and `npx tensorwire doctor` report.
 * Errors are TensorwireErrors that name the fix (`DeviceUnavailableError` when the device cannot
 * be used here at all).
 */
export interface DeviceBackend {
  /** Number of devices of this kind visible to this process; throws DeviceUnavailableError when none can be used. */
  deviceCount(): number;
  /** Allocate `nbytes` (may be 0) on device `deviceIndex`. Contents are undefined. */
  allocate(deviceIndex: number, nbytes: number): DeviceBuffer;
  /** Copy `src.byteLength` bytes from host memory to the start of `dst` (blocks until done). */
  copyFromHost(dst: DeviceBuffer, src: Uint8Array): void;
  /** Copy `dst.byteLength` bytes from the start of `src` into host memory (blocks until done). */
  copyToHost(src: DeviceBuffer, dst: Uint8Array): void;
  /** Device-to-device copy of `src.nbytes` bytes; when absent, core copies through the host. */
  copyDeviceToDevice?(src: DeviceBuffer, dst: DeviceBuffer): void;
  /**
   * Give `buffer`'s memory back now (`tensor.release()`); core never uses the buffer again and
   * never passes a buffer from `wrap` here. A backend must wait for operations still using it.
   */
  free?(buffer: DeviceBuffer): void;
  /** Fill `dst` with copies of `element` (1, 2, 4 or 8 bytes: one element's bytes). */
  fill?(dst: DeviceBuffer, element: Uint8Array): void;
  /** Like copyFromHost, off the JavaScript thread; `src` must stay unchanged until it resolves. */
  copyFromHostAsync?(dst: DeviceBuffer, src: Uint8Array, options?: DeviceCopyOptions): Promise<void>;
  /** Like copyToHost, off the JavaScript thread. */
  copyToHostAsync?(src: DeviceBuffer, dst: Uint8Array, options?: DeviceCopyOptions): Promise<void>;
  /** Like copyDeviceToDevice, off the JavaScript thread (queued on `options.stream` or `dst`'s device). */
  copyDeviceToDeviceAsync?(src: DeviceBuffer, dst: DeviceBuffer, options?: DeviceCopyOptions): Promise<void>;
  /**
   * A buffer over memory allocated elsewhere (another library in this process). Throws
   * InvalidArgumentError when [devicePtr, devicePtr + nbytes) is not device memory of that device.
   */
  wrap?(devicePtr: bigint, nbytes: number, deviceIndex: number): DeviceBuffer;
  /** Memory use per device (the devices used so far, at least). */
  memoryStats?(): readonly DeviceMemoryStats[];
  /** What this machine offers (for doctor); never rejects. */
  probe?(): Promise<DeviceProbe>;
}

/** Backends live on globalThis: two copies of core in one process (a package with its own) share them. */
const REGISTRY_KEY = Symbol.for('tensorwire.deviceBackends');
const backends: Map<Exclude<DeviceKind, 'cpu'>, DeviceBackend> = ((globalThis as Record<symbol, unknown>)[REGISTRY_KEY] ??=
  new Map()) as Map<Exclude<DeviceKind, 'cpu'>, DeviceBackend>;

/**
 * Register (or replace) the backend for a device kind: what a CUDA device package calls when it
 * is imported (an application may register its own).
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

/** The backend for `kind`, or a DeviceUnavailableError that says how to get one. */
export function requireDeviceBackend(kind: 'cuda'): DeviceBackend {
  const backend = backends.get(kind);
  if (!backend) {
    throw new DeviceUnavailableError(
      kind,
      'CUDA tensors need a CUDA device backend, and none is registered in this process',
      "import the package that provides the 'cuda' device backend in this process (its package.json declares " +
        '"tensorwire": { "device": "cuda" }; npx tensorwire doctor lists it), or register your own with ' +
        "registerDeviceBackend('cuda', backend); otherwise keep tensors on 'cpu'",
    );
  }
  return backend;
}

/**
 * How many devices of `kind` this process can use: the backend's count, or 0 with the reason
 * (no backend registered, or the backend's DeviceUnavailableError message).
 */
export function countDevices(kind: 'cuda'): { count: number; reason?: string } {
  const backend = backends.get(kind);
  if (!backend) return { count: 0, reason: `no '${kind}' device backend is registered in this process` };
  try {
    return { count: backend.deviceCount() };
  } catch (err) {
    return { count: 0, reason: err instanceof Error ? err.message : String(err) };
  }
}

/** Memory use of every registered backend's devices (what `actorStats` reports); [] when none. */
export function deviceMemoryStats(): DeviceMemoryStats[] {
  const out: DeviceMemoryStats[] = [];
  for (const backend of backends.values()) {
    try {
      out.push(...(backend.memoryStats?.() ?? []));
    } catch {
      // a backend that cannot run here has no memory in use
    }
  }
  return out;
}

/** Parse 'cpu', 'cuda' (= 'cuda:0') or 'cuda:N'. */
export function parseDevice(device: string): ParsedDevice {
  if (device === 'cpu') return { kind: 'cpu', index: 0, name: 'cpu' };
  const m = typeof device === 'string' ? /^cuda(?::(\d+))?$/.exec(device) : null;
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

// ---- buffer lifetime: what core knows about each DeviceBuffer it holds

/** Buffers given back (tensor.release()): any later use is a RuntimeStateError. */
const released = new WeakSet<DeviceBuffer>();
/** Buffers over memory made elsewhere (fromDevicePointer), with what keeps that memory alive. */
const foreign = new WeakMap<DeviceBuffer, { keepAlive: unknown }>();

/** Record that `buffer` wraps memory owned elsewhere, kept alive by `keepAlive` while the buffer lives. */
export function markForeign(buffer: DeviceBuffer, keepAlive: unknown): void {
  foreign.set(buffer, { keepAlive });
}

/** True for buffers made by fromDevicePointer (never freed by core). */
export function isForeign(buffer: DeviceBuffer): boolean {
  return foreign.has(buffer);
}

/** True once `buffer` was released. */
export function isReleased(buffer: DeviceBuffer): boolean {
  return released.has(buffer);
}

/** Throws RuntimeStateError when `buffer` was released; `what` names the use. */
export function assertLive(buffer: DeviceBuffer, what: string): void {
  if (released.has(buffer)) {
    throw new RuntimeStateError(
      `${what}: the tensor's device memory was released (tensor.release(), on it or on a view of the same memory); ` +
        'make a new tensor, or keep the tensor unreleased while it is in use',
    );
  }
}

/**
 * Give `buffer` back: to the backend's allocator (free) for memory it allocated, or drop the
 * keepAlive of foreign memory. Idempotent.
 */
export function releaseBuffer(buffer: DeviceBuffer): void {
  if (released.has(buffer)) return;
  released.add(buffer);
  if (foreign.delete(buffer)) return;
  backends.get('cuda')?.free?.(buffer);
}
