/**
 * CUDA tensors through nixl against CPU tensors of the same size: a producer process registers
 * one CPU and one CUDA tensor per size, this process reads each repeatedly through a NixlEndpoint
 * (the transport path the runtime uses) into a pool CPU tensor, and into a CUDA tensor. On
 * Debian's UCX the CUDA read is staged (device -> pinned on the producer, pinned -> pinned over
 * UCX, pinned -> device here): two copies more than the CPU read. Only meaningful on a GPU: on
 * the mock driver the "device" copies are memcpy, and the figures say nothing about a GPU.
 */
import { fork } from 'node:child_process';
import * as path from 'node:path';
import type { TransportTensor } from '@tensorwire/core';
import { NixlEndpoint } from '../endpoint';
import type { NixlDescriptor } from '../descriptor';

export interface CudaStagingOptions {
  /** Tensor sizes in bytes. */
  readonly sizes: readonly number[];
  /** Timed reads per size (after 3 warm-up reads); capped at 10 for 64 MiB or more. */
  readonly reps: number;
}

export interface CudaStagingRow {
  readonly bytes: number;
  readonly reps: number;
  /** Median latency of one read, microseconds: CPU tensor to CPU tensor, CUDA to CUDA. */
  readonly cpuUs: number;
  readonly cudaUs: number;
  /** bytes / median latency, GB/s (1e9 bytes per second). */
  readonly cpuGbps: number;
  readonly cudaGbps: number;
}

export interface CudaStagingResult {
  /** 'staged' (pinned host memory, two extra copies) or 'direct' (UCX registers CUDA memory). */
  readonly path: 'staged' | 'direct';
  /** The CUDA driver library in use, and whether it is tensorwire's mock. */
  readonly driver: string;
  readonly mock: boolean;
  readonly rows: readonly CudaStagingRow[];
}

/** What the producer child sends. */
export type StagingMessage =
  | { type: 'ready'; regions: { bytes: number; cpu: NixlDescriptor; cuda: NixlDescriptor }[] }
  | { type: 'error'; message: string };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeReads(ep: NixlEndpoint, desc: NixlDescriptor, into: TransportTensor, n: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n + 3; i++) {
    const t0 = process.hrtime.bigint();
    await ep.read(desc, [into], 120_000);
    if (i >= 3) times.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  return median(times);
}

/** Runs the comparison; needs @tensorwire/cuda and a CUDA driver (or the mock) in this process. */
export async function runCudaStagingRead(options: CudaStagingOptions): Promise<CudaStagingResult> {
  // Loaded here, not at the top: @tensorwire/nixl/bench must load without @tensorwire/cuda.
  const { Tensor } = await import('@tensorwire/core');
  await import('@tensorwire/cuda');
  const { openDriver } = await import('@tensorwire/cuda/internal');
  const producer = fork(path.join(__dirname, 'cuda-staging-child.js'), [JSON.stringify(options.sizes)], { stdio: 'inherit' });
  const ep = new NixlEndpoint('bench-cuda-consumer');
  try {
    const ready = await new Promise<Extract<StagingMessage, { type: 'ready' }>>((resolve, reject) => {
      producer.once('exit', (code, sig) => reject(new Error(`the producer exited early (${sig ?? code})`)));
      producer.on('message', (m: StagingMessage) => (m.type === 'ready' ? resolve(m) : reject(new Error(`producer: ${m.message}`))));
    });
    const rows: CudaStagingRow[] = [];
    for (const r of ready.regions) {
      const n = r.bytes >= 64 * 2 ** 20 ? Math.min(options.reps, 10) : options.reps;
      const cpuInto = Tensor.fromBytes(ep.allocate(r.bytes), 'uint8', [r.bytes]); // as the runtime allocates
      const cudaInto = Tensor.empty([r.bytes], 'uint8', { device: 'cuda:0' });
      const cpuUs = await timeReads(ep, r.cpu, cpuInto, n);
      const cudaUs = await timeReads(ep, r.cuda, cudaInto, n);
      const last = r.bytes - 1;
      if (cpuInto.bytes()[last] !== last % 251 || cudaInto.cpu().bytes()[last] !== last % 251) {
        throw new Error(`wrong bytes read for ${r.bytes} bytes`);
      }
      cudaInto.release();
      rows.push({ bytes: r.bytes, reps: n, cpuUs, cudaUs, cpuGbps: r.bytes / (cpuUs * 1e3), cudaGbps: r.bytes / (cudaUs * 1e3) });
    }
    const driver = openDriver();
    return {
      path: ep.stats().cuda.ucxCudaMemory ? 'direct' : 'staged',
      driver: driver.libraryPath,
      mock: driver.binding?.isMock() ?? false,
      rows,
    };
  } finally {
    producer.kill('SIGKILL');
    await ep.close();
  }
}

/** The result as a markdown table, with what it means. */
export function formatCudaStaging(result: CudaStagingResult): string {
  const lines = [
    `nixl: CUDA tensor read (${result.path} path) against a CPU tensor read of the same size; driver ${result.driver}`,
    result.mock
      ? 'MOCK DRIVER: the device copies are memcpy; these figures prove the code path runs and say nothing about a GPU.'
      : 'real CUDA driver',
    '',
    '| bytes | reps | CPU read µs | CUDA read µs | CPU GB/s | CUDA GB/s | CUDA / CPU time |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...result.rows.map(
      (r) =>
        `| ${r.bytes} | ${r.reps} | ${r.cpuUs.toFixed(1)} | ${r.cudaUs.toFixed(1)} | ${r.cpuGbps.toFixed(2)} | ${r.cudaGbps.toFixed(2)} | ${(r.cudaUs / r.cpuUs).toFixed(2)} |`,
    ),
  ];
  return lines.join('\n');
}
