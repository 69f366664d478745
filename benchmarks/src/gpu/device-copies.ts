/**
 * Bare device copies in one plain process (no actors, no runtime): the ceilings the GPU section
 * compares the runtime's paths with. cuMemcpyDtoD inside one device, and host<->device copies
 * of pageable memory, each timed as one awaited copy (submission, the copy, and the completion
 * seen by JavaScript, as a user of @tensorwire/cuda sees it).
 */
import { Tensor } from '@tensorwire/core';
import { copyDeviceToDevice, copyDeviceToHost, copyHostToDevice } from '@tensorwire/cuda/internal';
import { measurement, repsFor, sample, type Measurement } from '../harness/stats';

export const DEVICE = 0;

/** Device-to-device copy of `n` bytes between two tensors of one device, in this process. */
export async function inProcessDtoD(sizes: readonly number[]): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (const n of sizes) {
    const src = Tensor.empty([n], 'uint8', { device: `cuda:${DEVICE}` });
    const dst = Tensor.empty([n], 'uint8', { device: `cuda:${DEVICE}` });
    const copy = (): Promise<void> => copyDeviceToDevice({ device: DEVICE, ptr: dst.devicePtr! }, { device: DEVICE, ptr: src.devicePtr! }, n);
    out.push(measurement('bare cuMemcpyDtoD, one process', n, await sample(copy, repsFor(n))));
    src.release();
    dst.release();
  }
  return out;
}

/** Host-to-device and device-to-host copies of pageable host memory, in this process. */
export async function hostDeviceCopies(sizes: readonly number[], where = 'plain process'): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (const n of sizes) {
    const host = new Uint8Array(n);
    for (let i = 0; i < n; i += 4096) host[i] = i & 0xff; // touched: no first-touch faults timed
    const dev = Tensor.empty([n], 'uint8', { device: `cuda:${DEVICE}` });
    const at = { device: DEVICE, ptr: dev.devicePtr! };
    out.push(measurement(`host to device, ${where}`, n, await sample(() => copyHostToDevice(at, host), repsFor(n))));
    out.push(measurement(`device to host, ${where}`, n, await sample(() => copyDeviceToHost(host, at), repsFor(n))));
    dev.release();
  }
  return out;
}
