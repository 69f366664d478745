/**
 * CUDA test tensors for nixl's tests (on the mock driver here, on a GPU in scripts/gpu-check.sh):
 * seeded bytes as in `@tensorwire/conformance/testing`'s specs, on a device. Loaded only by the
 * CUDA tests and commands: @tensorwire/cuda is a dev dependency of this package.
 */
import { Tensor } from '@tensorwire/core';
import { findPatternMismatch, makeTensor, specBytes, type TensorSpec } from '@tensorwire/conformance/testing';
import { copyHostToDevice } from '@tensorwire/cuda/internal';

/** A uint8 tensor on `device` holding the bytes of `spec`'s pattern. */
export function makeCudaTensor(spec: TensorSpec, device = 'cuda:0'): Tensor {
  const host = makeTensor({ ...spec, offsetElements: 0, device: undefined }).bytes();
  return Tensor.fromBytes(Uint8Array.from(host), 'uint8', [host.byteLength]).to(device);
}

/** A zeroed uint8 tensor on `device` with room for `spec`. */
export function allocateCudaTensor(spec: TensorSpec, device = 'cuda:0'): Tensor {
  return Tensor.zeros([specBytes(spec)], { device, dtype: 'uint8' });
}

/** Overwrite the device tensor `t` with `spec`'s pattern (awaited: the bytes are there after). */
export async function fillCudaTensor(t: Tensor, spec: TensorSpec): Promise<void> {
  const host = makeTensor({ ...spec, offsetElements: 0, device: undefined }).bytes();
  await copyHostToDevice({ device: Number(t.device.split(':')[1]), ptr: t.devicePtr as bigint }, Uint8Array.from(host));
}

/** Problems of received tensors (CPU or CUDA; CUDA ones are copied to the host first), as checkTensors. */
export async function checkAnyTensors(specs: readonly TensorSpec[], got: readonly { device: string; bytes(): Uint8Array }[]): Promise<string[]> {
  const problems: string[] = [];
  for (let i = 0; i < specs.length; i++) {
    const t = got[i];
    const bytes = t.device === 'cpu' ? t.bytes() : (await (t as Tensor).cpuAsync()).bytes();
    if (bytes.byteLength !== specBytes(specs[i])) {
      problems.push(`tensor ${i}: ${bytes.byteLength} bytes, expected ${specBytes(specs[i])}`);
      continue;
    }
    const bad = findPatternMismatch(bytes, specs[i].seed);
    if (bad >= 0) problems.push(`tensor ${i} (${t.device}, seed ${specs[i].seed}): first wrong byte at ${bad}: got ${bytes[bad]}`);
  }
  return problems;
}
