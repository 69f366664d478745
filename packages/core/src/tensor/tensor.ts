/**
 * Tensor: a small n-dimensional array that wraps a TypedArray (CPU) or a block of device memory
 * (CUDA, through a registered device backend). Core keeps it small on purpose: enough to build,
 * move, check and sum tensors; real math belongs to other libraries.
 */
import { InvalidArgumentError, RuntimeStateError } from '../errors/errors';
import type { TransportTensor } from './transport-tensor';
import {
  assertLive,
  backendFor,
  isReleased,
  markForeign,
  parseDevice,
  releaseBuffer,
  type DeviceBackend,
  type DeviceBuffer,
  type DeviceCopyOptions,
  type ParsedDevice,
} from './device';
import {
  allocateArray,
  arrayFitsDType,
  arrayFromNumbers,
  asNumbers,
  assertDType,
  dtypeArrayConstructor,
  dtypeOfArray,
  dtypeSize,
  numberToBigInt,
  numberToStored,
  readNumber,
  storeNumbers,
  type DType,
  type TypedArray,
} from './dtypes';

const DETACHED_WHY =
  'the memory of this tensor was given back (it was received as an argument of a call that has ended: a GPU object, or a value from the shared-memory object store); ' +
  'call keep(tensor) inside the method to keep a received tensor, or clone it';

/**
 * Release `t` as `release()` does, with `why` as the message of later uses (core's receive
 * path: tensors lent to a call for its duration).
 */
export function releaseWithReason(t: Tensor, why: string): void {
  t['_releasedWhy'] = why;
  t.release();
}

/** Options accepted by the factories. */
export interface TensorOptions {
  /** Element type; float32 when omitted. */
  dtype?: DType;
  /** 'cpu' (default), 'cuda' or 'cuda:N'. */
  device?: string;
}

/** Options of {@link Tensor.randn}. */
export interface RandnOptions extends TensorOptions {
  /** Seed for a deterministic generator (tests); Math.random when omitted. */
  seed?: number;
}

/** Options of {@link Tensor.fromDevicePointer}. */
export interface DevicePointerOptions {
  /** 'cuda' or 'cuda:N': the device the memory is on. */
  device: string;
  /**
   * What owns the memory (e.g. the other library's tensor object): kept alive as long as this
   * tensor or a view of it lives, and dropped by `release()`. tensorwire never frees the memory.
   */
  keepAlive?: unknown;
}

/** Options of {@link Tensor.toAsync}. */
export interface ToAsyncOptions {
  /**
   * The stream (from the device package) to queue the copy on; the device's default stream
   * when omitted. Copies on one stream run in the order they were submitted.
   */
  stream?: DeviceCopyOptions['stream'];
}

const BRAND = Symbol.for('tensorwire.Tensor');
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

function checkShape(shape: readonly number[], what: string): number {
  if (!Array.isArray(shape)) throw new InvalidArgumentError(`${what}: shape must be an array of non-negative integers`);
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new InvalidArgumentError(`${what}: shape [${shape.join(', ')}] must hold non-negative integers`);
    }
    n *= d;
  }
  return n;
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A mulberry32 generator: tiny, fast, good enough for test data. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Op = 'add' | 'mul';

/**
 * An n-dimensional array of one {@link DType} on one device.
 *
 * CPU tensors wrap their TypedArray without copying: `new Tensor(arr).data === arr`. float16 and
 * bfloat16 tensors store bit patterns in a Uint16Array, int64 a BigInt64Array, bool a Uint8Array
 * of 0/1. Tensors are contiguous (row-major); `reshape` returns a view sharing the storage.
 */
export class Tensor implements TransportTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly numel: number;
  private readonly _device: ParsedDevice;
  private _data: TypedArray | undefined;
  private readonly _storage: DeviceBuffer | undefined;
  /** CPU tensors: release() was called (device tensors track release on their DeviceBuffer). */
  private _released = false;
  /** Why the tensor was released, when not by `release()` (see {@link releaseWithReason}). */
  private _releasedWhy: string | undefined;

  /**
   * Wrap `data` (no copy for CPU). `shape` defaults to `[data.length]`; `options.dtype` is
   * needed for Uint16Array ('float16' | 'bfloat16') and selects 'bool' for a Uint8Array. A CUDA
   * `device` copies the data to that device (CUDA needs a backend registered with `registerDeviceBackend`).
   */
  constructor(data: TypedArray, shape?: readonly number[], options: TensorOptions = {}) {
    const dtype = options.dtype ?? dtypeOfArray(data);
    if (dtype === undefined) {
      if (data instanceof Uint16Array) {
        throw new InvalidArgumentError("a Uint16Array holds float16 or bfloat16 bits: pass { dtype: 'float16' } or { dtype: 'bfloat16' }");
      }
      throw new InvalidArgumentError(
        `cannot wrap ${describe(data)} in a Tensor; use Float32Array, Float64Array, Int8Array, Int16Array, ` +
          'Int32Array, BigInt64Array, Uint8Array (uint8/bool) or Uint16Array (float16/bfloat16)',
      );
    }
    assertDType(dtype);
    if (!arrayFitsDType(data, dtype)) {
      throw new InvalidArgumentError(`dtype '${dtype}' is stored in a ${dtypeArrayConstructor(dtype).name}, got ${describe(data)}`);
    }
    const s = shape === undefined ? [data.length] : [...shape];
    const n = checkShape(s, 'new Tensor');
    if (n !== data.length) {
      throw new InvalidArgumentError(`shape ${fmtShape(s)} holds ${n} elements but the ${describe(data)} has ${data.length}`);
    }
    this.dtype = dtype;
    this.shape = Object.freeze(s);
    this.numel = n;
    const device = parseDevice(options.device ?? 'cpu');
    this._device = device;
    if (device.kind === 'cpu') {
      this._data = data;
      this._storage = undefined;
    } else {
      const backend = backendFor(device);
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      const storage = backend.allocate(device.index, bytes.byteLength);
      backend.copyFromHost(storage, bytes);
      this._data = undefined;
      this._storage = storage;
    }
    Object.defineProperty(this, BRAND, { value: true });
  }

  // ---------------------------------------------------------------- factories

  /** True for tensors, including those made by another copy of this package. */
  static isTensor(x: unknown): x is Tensor {
    return x instanceof Tensor || (typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[BRAND] === true);
  }

  /** A tensor of zeros. On a device it is filled there (no host copy when the backend can fill). */
  static zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
    const dtype = options.dtype ?? 'float32';
    assertDType(dtype);
    const n = checkShape(shape, 'Tensor.zeros');
    const device = parseDevice(options.device ?? 'cpu');
    if (device.kind !== 'cpu') return filledOnDevice(device, dtype, shape, allocateArray(dtype, 1));
    return new Tensor(allocateArray(dtype, n), shape, { dtype });
  }

  /** A tensor of ones. */
  static ones(shape: readonly number[], options: TensorOptions = {}): Tensor {
    return Tensor.full(shape, 1, options);
  }

  /** A tensor filled with `value` (a bigint for exact int64 values, a boolean for bool). */
  static full(shape: readonly number[], value: number | bigint | boolean, options: TensorOptions = {}): Tensor {
    const dtype = options.dtype ?? 'float32';
    assertDType(dtype);
    const n = checkShape(shape, 'Tensor.full');
    const device = parseDevice(options.device ?? 'cpu');
    // On a device only one element is made on the host: the device fills the rest.
    const data = allocateArray(dtype, device.kind === 'cpu' ? n : 1);
    let stored: number | bigint;
    if (typeof value === 'bigint') stored = dtype === 'int64' ? value : numberToStored(dtype, Number(value));
    else stored = numberToStored(dtype, typeof value === 'boolean' ? Number(value) : value);
    (data as { fill(v: number | bigint): unknown }).fill(stored);
    if (device.kind !== 'cpu') return filledOnDevice(device, dtype, shape, data);
    return new Tensor(data, shape, { dtype });
  }

  /**
   * Values from `start` (inclusive) to `end` (exclusive) by `step`; `arange(n)` is 0..n-1.
   * float32 unless `options.dtype` says otherwise.
   */
  static arange(start: number, end?: number, step = 1, options: TensorOptions = {}): Tensor {
    if (end === undefined) {
      end = start;
      start = 0;
    }
    if (step === 0 || !Number.isFinite(step)) throw new InvalidArgumentError('Tensor.arange: step must be a non-zero finite number');
    const n = Math.max(0, Math.ceil((end - start) / step));
    const dtype = options.dtype ?? 'float32';
    assertDType(dtype);
    const s = start;
    return new Tensor(arrayFromNumbers(dtype, n, (i) => s + i * step), [n], { dtype, device: options.device });
  }

  /** Standard normal samples (Box–Muller). `options.seed` makes them deterministic. */
  static randn(shape: readonly number[], options: RandnOptions = {}): Tensor {
    const dtype = options.dtype ?? 'float32';
    assertDType(dtype);
    const n = checkShape(shape, 'Tensor.randn');
    const random = options.seed === undefined ? Math.random : seededRandom(options.seed);
    let spare = NaN;
    const next = (): number => {
      if (!Number.isNaN(spare)) {
        const v = spare;
        spare = NaN;
        return v;
      }
      const u1 = 1 - random(); // (0, 1]: log is finite
      const u2 = random();
      const r = Math.sqrt(-2 * Math.log(u1));
      spare = r * Math.sin(2 * Math.PI * u2);
      return r * Math.cos(2 * Math.PI * u2);
    };
    return new Tensor(arrayFromNumbers(dtype, n, next), shape, { dtype, device: options.device });
  }

  /**
   * A tensor whose contents are undefined (like torch.empty): for buffers that are overwritten
   * whole. On a device it is only allocated (reused memory keeps what it held).
   */
  static empty(shape: readonly number[], dtype: DType = 'float32', options: { device?: string } = {}): Tensor {
    assertDType(dtype);
    const n = checkShape(shape, 'Tensor.empty');
    const device = parseDevice(options.device ?? 'cpu');
    if (device.kind !== 'cpu') {
      const storage = backendFor(device).allocate(device.index, n * dtypeSize(dtype));
      return Tensor.fromDeviceBuffer(storage, dtype, shape, device.name);
    }
    // Uninitialized, like torch.empty: receive buffers are overwritten whole, and zeroing
    // large ones costs a full pass over memory. allocUnsafeSlow gives a dedicated, aligned buffer.
    return Tensor.fromBytes(Buffer.allocUnsafeSlow(n * dtypeSize(dtype)), dtype, shape);
  }

  /**
   * A CPU tensor over `bytes`: a view without copying when `bytes.byteOffset` is aligned for the
   * dtype, else one copy. `bytes.byteLength` must be exactly numel × element size.
   */
  static fromBytes(bytes: Uint8Array, dtype: DType, shape: readonly number[]): Tensor {
    assertDType(dtype);
    const n = checkShape(shape, 'Tensor.fromBytes');
    const size = dtypeSize(dtype);
    if (bytes.byteLength !== n * size) {
      throw new InvalidArgumentError(
        `Tensor.fromBytes: ${dtype} shape ${fmtShape(shape)} needs ${n * size} bytes, got ${bytes.byteLength}`,
      );
    }
    const ctor = dtypeArrayConstructor(dtype);
    let data: TypedArray;
    if (bytes.byteOffset % size === 0) {
      data = new ctor(bytes.buffer, bytes.byteOffset, n);
    } else {
      data = new ctor(n);
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength).set(bytes);
    }
    return new Tensor(data, shape, { dtype });
  }

  /** A tensor over existing device memory (for device packages and transports). */
  static fromDeviceBuffer(storage: DeviceBuffer, dtype: DType, shape: readonly number[], device: string): Tensor {
    const t = Object.create(Tensor.prototype) as Tensor;
    assertDType(dtype);
    const n = checkShape(shape, 'Tensor.fromDeviceBuffer');
    const d = parseDevice(device);
    if (d.kind === 'cpu') throw new InvalidArgumentError('Tensor.fromDeviceBuffer needs a device other than cpu');
    if (storage.nbytes !== n * dtypeSize(dtype)) {
      throw new InvalidArgumentError(`Tensor.fromDeviceBuffer: ${dtype} shape ${fmtShape(shape)} needs ${n * dtypeSize(dtype)} bytes, got ${storage.nbytes}`);
    }
    return Object.assign(t, { dtype, shape: Object.freeze([...shape]), numel: n, _device: d, _data: undefined, _storage: storage, _released: false, [BRAND]: true });
  }

  /**
   * A tensor over device memory that another library in this process allocated (a GPU object
   * without a copy). The memory must hold numel × element size bytes at `ptr` on `options.device`;
   * the device backend checks that it is device memory there (when it can). tensorwire never frees
   * it: `options.keepAlive` (the owner) is kept alive while this tensor or a view of it lives, and
   * `release()` drops it.
   *
   * @example
   * ```ts
   * // ptr: a CUdeviceptr from another library (e.g. a CuPy array's data.ptr, passed as a bigint)
   * const t = Tensor.fromDevicePointer(ptr, [1024, 1024], 'float32', { device: 'cuda:0', keepAlive: owner });
   * t.devicePtr === ptr; // true: no copy
   * ```
   */
  static fromDevicePointer(ptr: bigint, shape: readonly number[], dtype: DType, options: DevicePointerOptions): Tensor {
    if (typeof ptr !== 'bigint' || ptr < 0n || ptr >= 2n ** 64n) {
      throw new InvalidArgumentError(`Tensor.fromDevicePointer: ptr must be a device address as a bigint, got ${describe(ptr)}`);
    }
    assertDType(dtype);
    const n = checkShape(shape, 'Tensor.fromDevicePointer');
    const device = parseDevice(options?.device ?? 'cpu');
    if (device.kind === 'cpu') {
      throw new InvalidArgumentError("Tensor.fromDevicePointer: options.device must name a device such as 'cuda:0' (CPU memory: use new Tensor(typedArray))");
    }
    const nbytes = n * dtypeSize(dtype);
    if (nbytes > 0 && ptr % BigInt(dtypeSize(dtype)) !== 0n) {
      throw new InvalidArgumentError(`Tensor.fromDevicePointer: ptr 0x${ptr.toString(16)} is not aligned for ${dtype} (${dtypeSize(dtype)} bytes)`);
    }
    const backend = backendFor(device);
    const storage = backend.wrap ? backend.wrap(ptr, nbytes, device.index) : { devicePtr: ptr, nbytes, deviceIndex: device.index };
    markForeign(storage, options.keepAlive);
    return Tensor.fromDeviceBuffer(storage, dtype, shape, device.name);
  }

  // ---------------------------------------------------------------- properties

  /** 'cpu' or 'cuda:N'. */
  get device(): string {
    return this._device.name;
  }

  /** Size of the storage in bytes. */
  get nbytes(): number {
    return this.numel * dtypeSize(this.dtype);
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** The TypedArray holding the elements (CPU tensors only; the very array given to the constructor). */
  get data(): TypedArray {
    this.assertLive('data');
    if (this._data === undefined) {
      throw new InvalidArgumentError(`this tensor is on ${this.device}; call .cpu() (or await .cpuAsync()) to read its values`);
    }
    return this._data;
  }

  /** Device address of the first byte for device tensors; undefined on CPU. Throws once released. */
  get devicePtr(): bigint | undefined {
    if (this._storage !== undefined) this.assertLive('devicePtr');
    return this._storage?.devicePtr;
  }

  /** The device memory block of a device tensor (undefined on CPU). Throws once released. */
  get deviceBuffer(): DeviceBuffer | undefined {
    if (this._storage !== undefined) this.assertLive('deviceBuffer');
    return this._storage;
  }

  /** True after `release()` (on this tensor, or on a view of the same device memory). */
  get released(): boolean {
    return this._storage !== undefined ? isReleased(this._storage) : this._released;
  }

  /**
   * Give the tensor's memory back now instead of when it is garbage-collected. Device memory
   * returns to the device backend's allocator (a CUDA caching allocator reuses it for the next
   * tensor); memory from `fromDevicePointer` is not freed, its `keepAlive` is dropped. Afterwards
   * this tensor, and every view of the same device memory (`reshape`), throws RuntimeStateError
   * when used. A CPU tensor drops its reference to its array. Idempotent.
   *
   * @example
   * ```ts
   * const t = Tensor.zeros([1 << 20], { device: 'cuda:0' });
   * t.release(); // the block is free for the next allocation on cuda:0
   * ```
   */
  release(): void {
    if (this._storage !== undefined) releaseBuffer(this._storage);
    else {
      this._released = true;
      this._data = undefined;
    }
  }

  private assertLive(what: string): void {
    if (this._storage !== undefined) {
      if (this._releasedWhy !== undefined && isReleased(this._storage)) throw new RuntimeStateError(`${what}: ${this._releasedWhy}`);
      assertLive(this._storage, what);
    } else if (this._released) {
      throw new RuntimeStateError(`${what}: ${this._releasedWhy ?? 'this CPU tensor was released (tensor.release()); make a new tensor'}`);
    } else if (this._data !== undefined && this._data.byteLength === 0 && this.numel > 0) {
      // A view (reshape) of a tensor whose memory went back to a receive pool: its array was detached.
      throw new RuntimeStateError(`${what}: ${DETACHED_WHY}`);
    }
  }

  /** The bytes of a CPU tensor as a view (no copy). Throws for device tensors. */
  bytes(): Uint8Array {
    const d = this.data;
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }

  // ---------------------------------------------------------------- math

  /**
   * Sum of all elements as a number (int64 sums exactly, then converts). 0 for empty tensors.
   * A device tensor is copied to the host first (a blocking copy of the whole tensor).
   */
  sum(): number {
    if (this._storage !== undefined) return this.cpu().sum();
    const d = this.data;
    if (this.dtype === 'int64') {
      let s = 0n;
      for (const v of d as BigInt64Array) s += v;
      return Number(s);
    }
    const xs = asNumbers(this.dtype, d);
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[i] as number;
    return s;
  }

  /** Elementwise sum with a tensor of the same shape or a scalar; result has this tensor's dtype. */
  add(x: Tensor | number): Tensor {
    return this.binary('add', x, false);
  }

  /** Elementwise product with a tensor of the same shape or a scalar; result has this tensor's dtype. */
  mul(x: Tensor | number): Tensor {
    return this.binary('mul', x, false);
  }

  /** In-place `add`; returns this tensor. */
  add_(x: Tensor | number): this {
    this.binary('add', x, true);
    return this;
  }

  /** In-place `mul`; returns this tensor. */
  mul_(x: Tensor | number): this {
    this.binary('mul', x, true);
    return this;
  }

  private binary(op: Op, x: Tensor | number, inPlace: boolean): Tensor {
    const a = this.data;
    const n = this.numel;
    if (Tensor.isTensor(x)) {
      if (!sameShape(this.shape, x.shape)) {
        throw new InvalidArgumentError(
          `${op}: shapes ${fmtShape(this.shape)} and ${fmtShape(x.shape)} differ; Tensor has no broadcasting ` +
            '(use a scalar or a tensor of the same shape)',
        );
      }
      if (x.device !== 'cpu' || this.device !== 'cpu') {
        throw new InvalidArgumentError(`${op}: math runs on CPU tensors only; call .cpu() first`);
      }
    } else if (typeof x !== 'number') {
      throw new InvalidArgumentError(`${op}: expected a Tensor or a number, got ${describe(x)}`);
    }
    const out = inPlace ? a : allocateArray(this.dtype, n);
    if (this.dtype === 'int64') {
      const av = a as BigInt64Array;
      const o = out as BigInt64Array;
      let bAt: (i: number) => bigint;
      if (typeof x === 'number') {
        const b = numberToBigInt(x);
        bAt = () => b;
      } else if (x.dtype === 'int64') {
        const bv = x.data as BigInt64Array;
        bAt = (i) => bv[i] as bigint;
      } else {
        const bv = asNumbers(x.dtype, x.data);
        bAt = (i) => numberToBigInt(bv[i] as number);
      }
      // BigInt64Array stores modulo 2^64, like int64 overflow elsewhere.
      if (op === 'add') for (let i = 0; i < n; i++) o[i] = (av[i] as bigint) + bAt(i);
      else for (let i = 0; i < n; i++) o[i] = (av[i] as bigint) * bAt(i);
    } else {
      const av = asNumbers(this.dtype, a);
      let bAt: (i: number) => number;
      if (typeof x === 'number') bAt = () => x;
      else {
        const bv = asNumbers(x.dtype, x.data);
        bAt = (i) => bv[i] as number;
      }
      const exactInt32 = this.dtype === 'int32' && op === 'mul';
      const f =
        op === 'add'
          ? (i: number) => (av[i] as number) + bAt(i)
          : exactInt32
            ? (i: number) => {
                const b = bAt(i);
                // a*b can exceed 2^53 before the Int32Array wraps it; imul wraps exactly.
                return Number.isInteger(b) ? Math.imul(av[i] as number, b) : (av[i] as number) * b;
              }
            : (i: number) => (av[i] as number) * bAt(i);
      storeNumbers(this.dtype, out, n, f);
    }
    return inPlace ? this : new Tensor(out, this.shape, { dtype: this.dtype });
  }

  // ---------------------------------------------------------------- copies and views

  /**
   * The element at `index` (one index per dimension): a number, a bigint for int64, a boolean
   * for bool. A device tensor is copied to the host first (the whole tensor, blocking): read many
   * elements with `toArray()` or `cpu()` once instead.
   */
  at(...index: number[]): number | bigint | boolean {
    if (index.length !== this.shape.length) {
      throw new InvalidArgumentError(`at: the tensor has ${this.shape.length} dimension(s), got ${index.length} index(es)`);
    }
    let offset = 0;
    for (let k = 0; k < index.length; k++) {
      const i = index[k] as number;
      const size = this.shape[k] as number;
      if (!Number.isInteger(i) || i < 0 || i >= size) {
        throw new InvalidArgumentError(`at: index ${i} is out of range for dimension ${k} of size ${size}`);
      }
      offset = offset * size + i;
    }
    const d = this._storage !== undefined ? this.cpu().data : this.data;
    if (this.dtype === 'bool') return d[offset] !== 0;
    if (this.dtype === 'int64') return d[offset] as bigint;
    return readNumber(this.dtype, d, offset);
  }

  /** The single value of a one-element tensor (any shape), like torch's item(); copies a device tensor to the host. */
  item(): number | bigint | boolean {
    if (this.numel !== 1) throw new InvalidArgumentError(`item: the tensor has ${this.numel} elements, item() needs exactly 1`);
    return this.at(...this.shape.map(() => 0));
  }

  /** A copy with its own storage, on the same device. */
  clone(): Tensor {
    if (this._storage !== undefined) {
      this.assertLive('clone');
      const backend = backendFor(this._device);
      const dst = backend.allocate(this._device.index, this.nbytes);
      copyDeviceToDevice(backend, this._storage, dst);
      return Tensor.fromDeviceBuffer(dst, this.dtype, this.shape, this.device);
    }
    return new Tensor(this.data.slice(), this.shape, { dtype: this.dtype });
  }

  /** A view with another shape (same storage); one dimension may be -1. */
  reshape(shape: readonly number[]): Tensor {
    const s = [...shape];
    const free = s.indexOf(-1);
    if (free !== -1) {
      const rest = s.reduce((p, d, i) => (i === free ? p : p * d), 1);
      if (rest === 0 || this.numel % rest !== 0) {
        throw new InvalidArgumentError(`reshape: cannot infer -1 in ${fmtShape(shape)} for ${this.numel} elements`);
      }
      s[free] = this.numel / rest;
    }
    const n = checkShape(s, 'reshape');
    if (n !== this.numel) {
      throw new InvalidArgumentError(`reshape: shape ${fmtShape(shape)} holds ${n} elements, the tensor has ${this.numel}`);
    }
    if (this._storage !== undefined) return Tensor.fromDeviceBuffer(this._storage, this.dtype, s, this.device);
    return new Tensor(this.data, s, { dtype: this.dtype });
  }

  /**
   * This tensor on `device`: itself when already there, else a copy. The copy blocks this thread
   * until done; for large device copies prefer `await toAsync(device)`.
   */
  to(device: string): Tensor {
    const target = parseDevice(device);
    if (target.name === this.device) return this;
    this.assertLive('to');
    if (target.kind === 'cpu') {
      const backend = backendFor(this._device);
      const out = allocateArray(this.dtype, this.numel);
      backend.copyToHost(this._storage as DeviceBuffer, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
      return new Tensor(out, this.shape, { dtype: this.dtype });
    }
    const backend = backendFor(target);
    if (this._storage === undefined) return new Tensor(this.data, this.shape, { dtype: this.dtype, device: target.name });
    const dst = backend.allocate(target.index, this.nbytes);
    copyDeviceToDevice(backend, this._storage, dst);
    return Tensor.fromDeviceBuffer(dst, this.dtype, this.shape, target.name);
  }

  /** `to('cpu')`. */
  cpu(): Tensor {
    return this.to('cpu');
  }

  /** `to('cuda:n')`; needs a CUDA device backend (`registerDeviceBackend('cuda', ...)`) and an NVIDIA GPU. */
  cuda(n = 0): Tensor {
    return this.to(`cuda:${n}`);
  }

  /**
   * Like `to(device)`, but the copy runs off the JavaScript thread: the event loop keeps running
   * (timers, I/O, other calls of the actor) while a large tensor moves. Resolves to this tensor
   * when it is already on `device`, else to the copy once it is complete. `src` must not change
   * until then (a CPU source is read while the copy runs).
   *
   * @example
   * ```ts
   * const g = await Tensor.randn([1 << 28]).toAsync('cuda:0'); // 1 GiB; the actor stays responsive
   * const back = await g.cpuAsync();
   * ```
   */
  async toAsync(device: string, options: ToAsyncOptions = {}): Promise<Tensor> {
    const target = parseDevice(device);
    if (target.name === this.device) return this;
    this.assertLive('toAsync');
    const copyOptions: DeviceCopyOptions = options.stream === undefined ? {} : { stream: options.stream };
    if (target.kind === 'cpu') {
      const backend = backendFor(this._device);
      const out = allocateArray(this.dtype, this.numel);
      const host = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      const storage = this._storage as DeviceBuffer;
      if (backend.copyToHostAsync) await backend.copyToHostAsync(storage, host, copyOptions);
      else backend.copyToHost(storage, host);
      return new Tensor(out, this.shape, { dtype: this.dtype });
    }
    const backend = backendFor(target);
    const dst = backend.allocate(target.index, this.nbytes);
    try {
      if (this._storage === undefined) {
        const src = this.bytes();
        if (backend.copyFromHostAsync) await backend.copyFromHostAsync(dst, src, copyOptions);
        else backend.copyFromHost(dst, src);
      } else if (backend.copyDeviceToDeviceAsync) {
        await backend.copyDeviceToDeviceAsync(this._storage, dst, copyOptions);
      } else {
        copyDeviceToDevice(backend, this._storage, dst);
      }
    } catch (err) {
      backend.free?.(dst);
      throw err;
    }
    return Tensor.fromDeviceBuffer(dst, this.dtype, this.shape, target.name);
  }

  /** `toAsync('cpu')`. */
  cpuAsync(): Promise<Tensor> {
    return this.toAsync('cpu');
  }

  /** `toAsync('cuda:n')`. */
  cudaAsync(n = 0, options: ToAsyncOptions = {}): Promise<Tensor> {
    return this.toAsync(`cuda:${n}`, options);
  }

  // ---------------------------------------------------------------- comparison and output

  /**
   * True when `other` has the same dtype, shape and values (compared on the CPU). NaN differs
   * from NaN unless `options.nanEqual`; +0 equals -0.
   */
  equals(other: Tensor, options: { nanEqual?: boolean } = {}): boolean {
    if (!Tensor.isTensor(other) || other.dtype !== this.dtype || !sameShape(this.shape, other.shape)) return false;
    const a = this.cpu().data;
    const b = other.cpu().data;
    if (this.dtype === 'int64') {
      for (let i = 0; i < this.numel; i++) if (a[i] !== b[i]) return false;
      return true;
    }
    const x = asNumbers(this.dtype, a);
    const y = asNumbers(this.dtype, b);
    const nanEqual = options.nanEqual === true;
    for (let i = 0; i < this.numel; i++) {
      const u = x[i] as number;
      const v = y[i] as number;
      if (u !== v && !(nanEqual && Number.isNaN(u) && Number.isNaN(v))) return false;
    }
    return true;
  }

  /**
   * The values as nested arrays following the shape: numbers, bigints for int64, booleans for
   * bool. A scalar (shape []) gives the single value.
   */
  toArray(): unknown {
    const t = this.cpu();
    const d = t.data;
    const at: (i: number) => unknown =
      t.dtype === 'bool'
        ? (i) => d[i] !== 0
        : t.dtype === 'int64'
          ? (i) => d[i]
          : (i) => readNumber(t.dtype, d, i);
    const build = (dim: number, offset: number, stride: number): unknown => {
      if (dim === t.shape.length) return at(offset);
      const size = t.shape[dim] as number;
      const inner = stride / (size || 1);
      const out = new Array(size);
      for (let i = 0; i < size; i++) out[i] = build(dim + 1, offset + i * inner, inner);
      return out;
    };
    return build(0, 0, t.numel);
  }

  /** e.g. `Tensor(float32, [2, 3], cpu) [0, 1, 2, 3, 4, 5]`. */
  toString(): string {
    const head = `Tensor(${this.dtype}, ${fmtShape(this.shape)}, ${this.device}${this.released ? ', released' : ''})`;
    if (this._data === undefined) return head;
    const shown = Math.min(this.numel, 6);
    const vals: string[] = [];
    for (let i = 0; i < shown; i++) {
      vals.push(
        this.dtype === 'bool'
          ? String(this._data[i] !== 0)
          : this.dtype === 'int64'
            ? `${this._data[i] as bigint}n`
            : String(readNumber(this.dtype, this._data, i)),
      );
    }
    if (this.numel > shown) vals.push(`… ${this.numel - shown} more`);
    return `${head} [${vals.join(', ')}]`;
  }

  [INSPECT](): string {
    return this.toString();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  return typeof x;
}

/**
 * A device tensor of `shape` with every element equal to `element[0]`: filled on the device when
 * the backend can, else copied from a host array.
 */
function filledOnDevice(device: ParsedDevice, dtype: DType, shape: readonly number[], element: TypedArray): Tensor {
  const backend = backendFor(device);
  const n = checkShape(shape, 'Tensor.full');
  const storage = backend.allocate(device.index, n * dtypeSize(dtype));
  try {
    if (n > 0 && backend.fill) {
      backend.fill(storage, new Uint8Array(element.buffer, element.byteOffset, dtypeSize(dtype)));
    } else if (n > 0) {
      const host = allocateArray(dtype, n);
      (host as { fill(v: number | bigint): unknown }).fill(element[0] as number | bigint);
      backend.copyFromHost(storage, new Uint8Array(host.buffer, host.byteOffset, host.byteLength));
    }
  } catch (err) {
    backend.free?.(storage);
    throw err;
  }
  return Tensor.fromDeviceBuffer(storage, dtype, shape, device.name);
}

function copyDeviceToDevice(backend: DeviceBackend, src: DeviceBuffer, dst: DeviceBuffer): void {
  if (backend.copyDeviceToDevice) {
    backend.copyDeviceToDevice(src, dst);
    return;
  }
  const host = new Uint8Array(src.nbytes);
  backend.copyToHost(src, host);
  backend.copyFromHost(dst, host);
}
