/**
 * CUDA test tensors: the device variant of the seeded tensors of tensor-spec.ts. A spec with
 * `device: 'cuda:N'` becomes a tensor in device memory, built through core's `Tensor` on the
 * process's 'cuda' device backend (`@tensorwire/cuda`, loaded here when the transport did not load
 * one). Like a CPU test tensor it sits inside a larger block with zeroed slack around it (at
 * `offsetElements` from the block's start, one element after it), so that a transport that
 * writes outside the tensor, or ignores its `devicePtr` for its buffer's, is caught. Byte checks
 * copy the whole block to the host.
 */
import type { DeviceBuffer, Tensor as CoreTensor, TransportTensor } from '@tensorwire/core';
import { fillPattern } from './pattern';

/** What these functions read of a TensorSpec (tensor-spec.ts, which builds on this file). */
interface SpecFields {
  readonly numel: number;
  readonly elementSize: number;
  readonly seed: number;
  readonly offsetElements?: number;
  readonly device?: string;
}

/**
 * Environment variable naming the module that provides the 'cuda' device backend (an absolute
 * path); the suite sets it to where it found `@tensorwire/cuda`, and peers and actors inherit it.
 */
export const CUDA_MODULE_ENV = 'TENSORWIRE_CONFORMANCE_CUDA';

type Core = typeof import('@tensorwire/core');

/** Core, with a 'cuda' device backend registered (loading @tensorwire/cuda when none is). */
export function cudaCore(): Core {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const core = require('@tensorwire/core') as Core;
  if (!core.getDeviceBackend('cuda')) {
    const module = process.env[CUDA_MODULE_ENV] || '@tensorwire/cuda';
    try {
      require(module);
    } catch (e) {
      throw new Error(`CUDA test tensors need a 'cuda' device backend: loading ${module} failed (${(e as Error).message}); npm install @tensorwire/cuda`);
    }
  }
  return core;
}

/** Whether a spec describes a device tensor. */
export function isDeviceSpec(spec: SpecFields): boolean {
  return spec.device !== undefined && spec.device !== 'cpu';
}

/** A CUDA tensor in the SPI's shape, at an offset inside a device block of its own. */
export class CudaTestTensor implements TransportTensor {
  readonly guarded = true;
  readonly nbytes: number;
  readonly devicePtr: bigint;
  readonly deviceBuffer: DeviceBuffer;

  /** @param block the device block; the tensor is its bytes [start, start + nbytes). */
  constructor(
    readonly block: CoreTensor,
    readonly start: number,
    nbytes: number,
  ) {
    this.nbytes = nbytes;
    this.deviceBuffer = block.deviceBuffer!;
    this.devicePtr = block.devicePtr! + BigInt(start);
  }

  get device(): string {
    return this.block.device;
  }

  bytes(): Uint8Array {
    throw new Error(`bytes() of a ${this.device} test tensor: device memory has no host view (use hostBytes())`);
  }

  /** The whole block copied to the host, and where the tensor lies in it. */
  hostBytes(): { block: Uint8Array; start: number } {
    return { block: this.block.cpu().bytes(), start: this.start };
  }

  /** Gives the device memory back now (large tensors: do not wait for the collector). */
  release(): void {
    this.block.release();
  }
}

/** A block of zeros with the spec's tensor at its offset and one element of slack after it. */
function blockBytes(spec: SpecFields): { bytes: Uint8Array; start: number; nbytes: number } {
  const start = (spec.offsetElements ?? 0) * spec.elementSize;
  const nbytes = spec.numel * spec.elementSize;
  return { bytes: new Uint8Array(start + nbytes + spec.elementSize), start, nbytes };
}

/** A zeroed CUDA receive tensor for `spec`. */
export function allocateCudaTensor(spec: SpecFields): CudaTestTensor {
  const core = cudaCore();
  const { bytes, start, nbytes } = blockBytes(spec);
  return new CudaTestTensor(core.Tensor.zeros([bytes.byteLength], { dtype: 'uint8', device: spec.device }), start, nbytes);
}

/** A CUDA tensor for `spec` holding the spec's pattern (a send buffer). */
export function makeCudaTensor(spec: SpecFields): CudaTestTensor {
  const core = cudaCore();
  const { bytes, start, nbytes } = blockBytes(spec);
  fillPattern(bytes.subarray(start, start + nbytes), spec.seed);
  return new CudaTestTensor(core.Tensor.fromBytes(bytes, 'uint8', [bytes.byteLength]).to(spec.device!), start, nbytes);
}
