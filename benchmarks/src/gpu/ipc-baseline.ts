/**
 * The ceiling of cuda-ipc: a device-to-device copy from another process's memory, opened once
 * through a CUDA IPC handle, between two plain processes (no actors, no runtime, no event wait).
 */
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { Tensor } from '@tensorwire/core';
import { closeIpcMemHandle, copyDeviceToDevice, openIpcMemHandle } from '@tensorwire/cuda/internal';
import { measurement, repsFor, sample, type Measurement } from '../harness/stats';
import { DEVICE } from './device-copies';

interface Exported {
  handle: number[];
  offset: number;
}

export async function crossProcessDtoD(sizes: readonly number[]): Promise<Measurement[]> {
  const largest = Math.max(...sizes);
  const peer = fork(path.join(__dirname, 'ipc-peer.js'), [String(largest)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => peer.once('exit', () => resolve()));
  try {
    const msg = await new Promise<Exported>((resolve, reject) => {
      peer.once('message', (m) => resolve(m as Exported));
      peer.once('exit', (code) => reject(new Error(`the IPC peer exited (${code}) before sending its handle`)));
    });
    const base = openIpcMemHandle(DEVICE, Buffer.from(msg.handle));
    const src = base + BigInt(msg.offset);
    const out: Measurement[] = [];
    try {
      for (const n of sizes) {
        const dst = Tensor.empty([n], 'uint8', { device: `cuda:${DEVICE}` });
        const copy = (): Promise<void> => copyDeviceToDevice({ device: DEVICE, ptr: dst.devicePtr! }, { device: DEVICE, ptr: src }, n);
        out.push(measurement('bare cross-process DtoD (CUDA IPC)', n, await sample(copy, repsFor(n))));
        dst.release();
      }
    } finally {
      closeIpcMemHandle(DEVICE, base);
    }
    return out;
  } finally {
    peer.send('exit');
    await exited;
  }
}
