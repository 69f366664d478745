/**
 * Test tensors derived from seeds (see pattern.ts): plain-data specs that cross process
 * boundaries, the CPU tensors built from them, and the byte-exact check of received ones.
 */
import type { TransportTensor } from '@tensorwire/core';
import { allocateCudaTensor, CudaTestTensor, isDeviceSpec, makeCudaTensor } from './cuda-tensors';
import { fillPattern, findPatternMismatch } from './pattern';

/** Element sizes the suite covers: int8/uint8/bool, float16/bfloat16/int16, float32/int32, float64/int64. */
export type ElementSize = 1 | 2 | 4 | 8;

/**
 * A tensor the suite builds on both sides of a transfer. Plain data, so it travels over IPC;
 * the bytes themselves are derived from `seed` in each process (see pattern.ts).
 */
export interface TensorSpec {
  /** Number of elements (0 allowed; 1 with `scalar` is a 0-d tensor). */
  readonly numel: number;
  readonly elementSize: ElementSize;
  readonly seed: number;
  /**
   * Elements of padding in front of the tensor inside its ArrayBuffer. Real tensors are often
   * views (slices) of a larger buffer, so a transport must honor `bytes().byteOffset`.
   */
  readonly offsetElements?: number;
  /**
   * 'cpu' (the default) or 'cuda:N': a CUDA tensor, built on the process's 'cuda' device backend
   * (see cuda-tensors.ts); `offsetElements` then places it inside a larger device block.
   */
  readonly device?: string;
}

let seedCounter = 1;
/** A fresh seed: every tensor of a test run gets its own bytes (swapped tensors are caught). */
export function nextSeed(): number {
  return (Math.imul(seedCounter++, 0x9e3779b1) ^ 0x5bd1e995) >>> 0;
}

/** A tensor spec with a fresh seed (on `device`, 'cpu' when omitted). */
export function tensorSpec(numel: number, elementSize: ElementSize, offsetElements = 0, device?: string): TensorSpec {
  return device === undefined || device === 'cpu' ? { numel, elementSize, seed: nextSeed(), offsetElements } : { numel, elementSize, seed: nextSeed(), offsetElements, device };
}

/** Bytes of the tensor a spec describes. */
export function specBytes(spec: TensorSpec): number {
  return spec.numel * spec.elementSize;
}

/** A CPU tensor in the SPI's shape, backed by a TypedArray of the spec's element size. */
export class CpuTestTensor implements TransportTensor {
  readonly device = 'cpu';
  readonly nbytes: number;
  private readonly view: Uint8Array;
  /**
   * @param guarded the buffer around the tensor belongs to it alone (zeroed slack before and
   *   after), so writes outside the tensor can be detected.
   */
  constructor(
    readonly data: ArrayBufferView,
    readonly guarded = true,
  ) {
    this.nbytes = data.byteLength;
    this.view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  bytes(): Uint8Array {
    return this.view;
  }
}

/** A CPU tensor over exactly `view` (no guard bytes around it: memory the caller owns, e.g. a pool's). */
export function cpuTensor(view: ArrayBufferView): CpuTestTensor {
  return new CpuTestTensor(view, false);
}

/**
 * A stand-in for a tensor on a device this process cannot touch (`bytes()` throws), for tests
 * that a transport refuses devices it does not support.
 */
export function fakeDeviceTensor(device: string, nbytes: number): TransportTensor {
  return {
    device,
    nbytes,
    devicePtr: 1n,
    bytes(): Uint8Array {
      throw new Error(`bytes() of a ${device} tensor (a test stand-in: it has no memory)`);
    },
  };
}

function typedArray(elementSize: ElementSize, buffer: ArrayBuffer, offsetElements: number, numel: number): ArrayBufferView {
  switch (elementSize) {
    case 1:
      return new Uint8Array(buffer, offsetElements, numel);
    case 2:
      return new Uint16Array(buffer, offsetElements * 2, numel);
    case 4:
      return new Float32Array(buffer, offsetElements * 4, numel);
    case 8:
      return new BigInt64Array(buffer, offsetElements * 8, numel);
  }
}

/** A test tensor on the CPU or a CUDA device. */
export type TestTensor = CpuTestTensor | CudaTestTensor;

/**
 * Allocate a zeroed tensor for `spec` (a receive buffer), on the spec's device. With `memory`,
 * the tensor lives in that memory instead (a transport's registered pool; CPU specs only); it
 * must be large enough.
 */
export function allocateTensor(spec: TensorSpec, memory?: Uint8Array): TestTensor {
  if (isDeviceSpec(spec)) {
    if (memory) throw new Error(`a ${spec.device} tensor cannot live in a registered pool (host memory)`);
    return allocateCudaTensor(spec);
  }
  const off = spec.offsetElements ?? 0;
  if (memory) {
    const need = (off + spec.numel) * spec.elementSize;
    if (memory.byteLength < need) throw new Error(`pool memory of ${memory.byteLength} bytes < ${need}`);
    memory.fill(0, 0, need);
    if ((memory.byteOffset + off * spec.elementSize) % spec.elementSize !== 0) {
      return new CpuTestTensor(memory.subarray(off * spec.elementSize, need), false);
    }
    return new CpuTestTensor(typedArrayAt(spec, memory), false);
  }
  // A little trailing slack too, so writes past the end are detectable.
  const buffer = new ArrayBuffer((off + spec.numel + 1) * spec.elementSize);
  return new CpuTestTensor(typedArray(spec.elementSize, buffer, off, spec.numel));
}

function typedArrayAt(spec: TensorSpec, memory: Uint8Array): ArrayBufferView {
  const off = spec.offsetElements ?? 0;
  const byteOffset = memory.byteOffset + off * spec.elementSize;
  return typedArray(spec.elementSize, memory.buffer as ArrayBuffer, byteOffset / spec.elementSize, spec.numel);
}

/** Allocate a tensor for `spec` and fill it with the spec's pattern (a send buffer). */
export function makeTensor(spec: TensorSpec, memory?: Uint8Array): TestTensor {
  if (isDeviceSpec(spec)) {
    if (memory) throw new Error(`a ${spec.device} tensor cannot live in a registered pool (host memory)`);
    return makeCudaTensor(spec);
  }
  const t = allocateTensor(spec, memory);
  fillPattern(t.bytes(), spec.seed);
  return t;
}

/** The bytes of a test tensor on the host (a copy for a device tensor), and what lies around them. */
function hostView(t: TransportTensor): { bytes: Uint8Array; before: Uint8Array; after: Uint8Array; guarded: boolean } {
  if (t instanceof CudaTestTensor) {
    const { block, start } = t.hostBytes();
    return { bytes: block.subarray(start, start + t.nbytes), before: block.subarray(0, start), after: block.subarray(start + t.nbytes), guarded: true };
  }
  const bytes = t.bytes();
  const guarded = t instanceof CpuTestTensor && t.guarded;
  return {
    bytes,
    before: new Uint8Array(bytes.buffer, 0, bytes.byteOffset),
    after: new Uint8Array(bytes.buffer, bytes.byteOffset + bytes.byteLength, bytes.buffer.byteLength - bytes.byteOffset - bytes.byteLength),
    guarded,
  };
}

/** What a check of received tensors found; `ok` when every byte matched. */
export interface CheckResult {
  readonly ok: boolean;
  /** One line per bad tensor: index, expected size, first bad byte. */
  readonly problems: string[];
}

/**
 * Check received tensors against their specs, byte for byte, and that nothing was written before
 * or after them (device tensors are copied to the host for it).
 */
export function checkTensors(specs: readonly TensorSpec[], got: readonly TransportTensor[]): CheckResult {
  const problems: string[] = [];
  specs.forEach((spec, i) => {
    const { bytes, before, after, guarded } = hostView(got[i]);
    if (bytes.byteLength !== specBytes(spec)) {
      problems.push(`tensor ${i}: ${bytes.byteLength} bytes, expected ${specBytes(spec)}`);
      return;
    }
    const bad = findPatternMismatch(bytes, spec.seed);
    if (bad >= 0) {
      problems.push(
        `tensor ${i} (${spec.numel} x ${spec.elementSize}-byte elements${isDeviceSpec(spec) ? ` on ${spec.device}` : ''}, seed ${spec.seed}): ` +
          `first wrong byte at ${bad}: got ${bytes[bad]}, expected a pattern byte` +
          (bytes[bad] === 0 ? ' (0: never written?)' : ''),
      );
      return;
    }
    if (!guarded) return;
    // The slack around the tensor (allocateTensor without a pool) must still be zero.
    if (after.subarray(0, spec.elementSize).some((b) => b !== 0)) problems.push(`tensor ${i}: bytes written past its end`);
    if (before.some((b) => b !== 0)) {
      problems.push(`tensor ${i}: bytes written before its start (ignored ${isDeviceSpec(spec) ? 'devicePtr' : 'bytes().byteOffset'}?)`);
    }
  });
  return { ok: problems.length === 0, problems };
}
