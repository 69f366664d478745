/**
 * The bare copies: a device-to-device copy of each size, timed `reps` times (after warm-ups) on
 * one stream, one Promise per copy, in this process (`runInProcessCopy`) or from a producer
 * process's memory opened through CUDA IPC (`runBareIpcCopy`, the cross-process ceiling).
 */
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { Tensor } from '@tensorwire/core';
import '@tensorwire/cuda';
import { closeIpcMemHandle, copyDeviceToDevice, openIpcMemHandle, Stream } from '@tensorwire/cuda/internal';

export interface BareCopyOptions {
  /** Sizes in bytes (each at least 1). */
  readonly sizes: readonly number[];
  /** Timed copies per size (after 3 warm-ups); capped at 10 from 64 MiB up. */
  readonly reps: number;
  /** Device index in each process (default 0). */
  readonly device?: number;
}

export interface BareCopyRow {
  readonly bytes: number;
  readonly reps: number;
  /** Median time of one copy (submitted to Promise settled), microseconds. */
  readonly medianUs: number;
  /** bytes / median time, GB/s (1e9 bytes per second), counting each byte once. */
  readonly gbps: number;
}

export interface BareCopyResult {
  readonly kind: 'in-process' | 'cross-process';
  readonly rows: readonly BareCopyRow[];
}

/** Times `copy` and makes the row. */
export async function timeCopies(bytes: number, reps: number, copy: () => Promise<void>): Promise<BareCopyRow> {
  const n = bytes >= 64 * 2 ** 20 ? Math.min(reps, 10) : reps;
  for (let i = 0; i < 3; i++) await copy();
  const us: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await copy();
    us.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  us.sort((a, b) => a - b);
  const medianUs = us[Math.floor(us.length / 2)];
  return { bytes, reps: n, medianUs, gbps: bytes / (medianUs * 1000) };
}

/** A device-to-device copy of each size within this process. */
export async function runInProcessCopy(options: BareCopyOptions): Promise<BareCopyResult> {
  const device = options.device ?? 0;
  const stream = new Stream(device);
  const rows: BareCopyRow[] = [];
  try {
    for (const bytes of options.sizes.map((s) => Math.max(1, Math.floor(s)))) {
      const src = Tensor.empty([bytes], 'uint8', { device: `cuda:${device}` });
      const dst = Tensor.empty([bytes], 'uint8', { device: `cuda:${device}` });
      const from = { device, ptr: src.devicePtr! };
      const to = { device, ptr: dst.devicePtr! };
      rows.push(await timeCopies(bytes, options.reps, () => copyDeviceToDevice(to, from, bytes, { stream })));
      src.release();
      dst.release();
    }
  } finally {
    stream.destroy();
  }
  return { kind: 'in-process', rows };
}

/** Messages between the parent and the producer child (bare-copy-child.ts). */
export type BareCopyMessage =
  | { type: 'ready'; regions: { handle: number[]; offset: number; bytes: number }[] }
  | { type: 'error'; message: string };

/** The same copies, from another process's memory opened through CUDA IPC (the cross-process ceiling). */
export async function runBareIpcCopy(options: BareCopyOptions): Promise<BareCopyResult> {
  const device = options.device ?? 0;
  const sizes = options.sizes.map((s) => Math.max(1, Math.floor(s)));
  const producer = fork(path.join(__dirname, 'bare-copy-child.js'), [String(device), JSON.stringify(sizes)], { stdio: 'inherit' });
  try {
    const ready = await new Promise<Extract<BareCopyMessage, { type: 'ready' }>>((resolve, reject) => {
      producer.once('exit', (code, sig) => reject(new Error(`bare IPC copy: the producer exited early (${sig ?? code})`)));
      producer.on('message', (m: BareCopyMessage) => (m.type === 'ready' ? resolve(m) : reject(new Error(`bare IPC copy (producer): ${m.message}`))));
    });
    const stream = new Stream(device);
    const rows: BareCopyRow[] = [];
    try {
      for (const r of ready.regions) {
        const base = openIpcMemHandle(device, Buffer.from(r.handle));
        const dst = Tensor.empty([r.bytes], 'uint8', { device: `cuda:${device}` });
        const from = { device, ptr: base + BigInt(r.offset) };
        const to = { device, ptr: dst.devicePtr! };
        rows.push(await timeCopies(r.bytes, options.reps, () => copyDeviceToDevice(to, from, r.bytes, { stream })));
        closeIpcMemHandle(device, base);
        dst.release();
      }
    } finally {
      stream.destroy();
    }
    return { kind: 'cross-process', rows };
  } finally {
    if (producer.exitCode === null && producer.signalCode === null) producer.kill('SIGKILL');
  }
}
