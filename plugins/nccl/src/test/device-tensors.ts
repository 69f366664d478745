/**
 * CUDA tensors of the tests, built from and checked against the seeded patterns of
 * `@tensorwire/conformance/testing` (tensor bytes never cross the peers' IPC): copies to and
 * from the device run off the JS thread.
 */
import { Tensor } from '@tensorwire/core';
import { fillPattern, findPatternMismatch, specBytes, type TensorSpec } from '@tensorwire/conformance/testing';

/** A CUDA tensor of `spec`'s bytes (its seeded pattern) on `device`. */
export async function deviceTensorOf(spec: TensorSpec, device: string): Promise<Tensor> {
  const host = new Uint8Array(specBytes(spec));
  fillPattern(host, spec.seed);
  return new Tensor(host, [host.length], { dtype: 'uint8' }).toAsync(device);
}

/** An uninitialized CUDA tensor of `spec`'s size, zeroed (so that a missed byte shows). */
export function emptyDeviceTensor(spec: TensorSpec, device: string): Tensor {
  return Tensor.zeros([specBytes(spec)], { dtype: 'uint8', device });
}

/** Problems of `got` (a CUDA tensor) against `spec`'s pattern; empty when every byte is right. */
export async function checkDeviceTensor(spec: TensorSpec, got: Tensor, what: string): Promise<string[]> {
  const bytes = (await got.cpuAsync()).bytes();
  if (bytes.byteLength !== specBytes(spec)) return [`${what}: ${bytes.byteLength} bytes, expected ${specBytes(spec)}`];
  const at = findPatternMismatch(bytes, spec.seed);
  return at < 0 ? [] : [`${what}: byte ${at} is ${bytes[at]}, not the pattern's`];
}

/** A CUDA tensor holding `bytes`. */
export function deviceBytes(bytes: readonly number[], device: string): Promise<Tensor> {
  return new Tensor(Uint8Array.from(bytes), [bytes.length], { dtype: 'uint8' }).toAsync(device);
}

/** The bytes of a CUDA tensor. */
export async function bytesOf(t: Tensor): Promise<number[]> {
  return Array.from((await t.cpuAsync()).bytes());
}
