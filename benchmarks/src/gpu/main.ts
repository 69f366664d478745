/**
 * The GPU section of the benchmarks (run by scripts/gpu-check.sh on a machine with an NVIDIA GPU,
 * or by hand: `node benchmarks/dist/gpu/main.js [--out DIR]`). In one run: the bare ceilings
 * (cuMemcpyDtoD in one process, a device-to-device copy from another process through CUDA IPC,
 * host<->device copies), then CUDA GPU objects between two actors that share GPU 0 over every
 * installed transport that moves CUDA tensors (cuda-ipc, nixl, nccl), interleaved with a CPU
 * tensor through the object store, and host<->device copies inside an actor. Prints and writes
 * gpu-bench.{md,json} with each target marked met / not met.
 *
 * Environment: BENCH_GPU_SIZES (comma-separated bytes; default 1 KiB, 1 MiB, 64 MiB, 256 MiB,
 * 1 GiB). Against the mock driver (TENSORWIRE_LIBCUDA = @tensorwire/cuda/testing's library) it
 * runs every code path, and its figures are host memcpy speeds that say nothing about a GPU.
 */
import '@tensorwire/cuda';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createCollectiveGroup, destroyCollectiveGroup, free, get, getTransport, hasTransport, init, shutdown, spawn, type ActorHandle, type CollectiveGroupHandle, type TensorTransportName } from '@tensorwire/core';
import { availability, driverLibraryPath } from '@tensorwire/cuda';
import { mockLibraryPath } from '@tensorwire/cuda/testing';
import { markdownTable } from '../harness/report';
import { measurement, repsFor, sampleInterleaved, sizeLabel, type Measurement } from '../harness/stats';
import { hostDeviceCopies, inProcessDtoD } from './device-copies';
import { crossProcessDtoD } from './ipc-baseline';
import { GpuBenchActor } from './gpu-bench-actor';
import { evaluateTargets } from './targets';
import { targetsTable } from '../harness/targets-table';

const GPU_SIZES = [1 << 10, 1 << 20, 64 << 20, 256 << 20, 1 << 30];
const STORE_CPU = 'CPU tensor, object store (actor to actor)';
const CEILING = 'bare cross-process DtoD (CUDA IPC)';
const pathLabel = (transport: string): string => `${transport} CUDA GPU object (actor to actor)`;

/** Transports that move CUDA tensors, loaded (registered) before any actor starts. */
function cudaTransports(): string[] {
  const found: string[] = [];
  for (const [name, pkg] of [['cuda-ipc', '@tensorwire/cuda-ipc'], ['nixl', '@tensorwire/nixl'], ['nccl', '@tensorwire/nccl']] as const) {
    try {
      require(pkg);
    } catch (err) {
      process.stderr.write(`  ${pkg} not loaded: ${(err as Error).message.split('\n')[0]}\n`);
      continue;
    }
    if (hasTransport(name) && getTransport(name).plugin.supports.devices.includes('cuda')) found.push(name);
    else process.stderr.write(`  ${pkg} does not move CUDA tensors (supports.devices)\n`);
  }
  return found;
}

/** The time of get(b.consume(a.give())) per path, the paths taking turns rep by rep. */
async function actorPaths(a: ActorHandle<GpuBenchActor>, b: ActorHandle<GpuBenchActor>, transports: readonly string[], sizes: readonly number[]): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (const n of sizes) {
    await get(a.prepare.remote(n));
    const runs: Array<[string, () => Promise<void>]> = [
      [STORE_CPU, async () => void (await get(b.consume.remote(a.giveHost.remote())))],
      ...transports.map((tr): [string, () => Promise<void>] => [
        pathLabel(tr),
        async () => {
          const ref = a.give.options({ tensorTransport: tr as TensorTransportName }).remote();
          await get(b.consume.remote(ref));
          await free(ref);
        },
      ]),
    ];
    const { samples } = await sampleInterleaved(runs.map(([, run]) => run), repsFor(n));
    runs.forEach(([label], i) => out.push(measurement(label, n, samples[i]!)));
  }
  return out;
}

async function main(): Promise<void> {
  const outIdx = process.argv.indexOf('--out');
  const outDir = outIdx > 0 ? process.argv[outIdx + 1]! : path.join(__dirname, '..', '..', 'results');
  const sizes = process.env.BENCH_GPU_SIZES ? process.env.BENCH_GPU_SIZES.split(',').map(Number) : GPU_SIZES;
  const probe = await availability();
  if (!probe.available) {
    process.stderr.write(`no CUDA device: ${probe.detail}${probe.fix ? `. Fix: ${probe.fix}` : ''}\n`);
    process.exit(2);
  }
  const mock = driverLibraryPath() === mockLibraryPath;
  const driver = mock ? 'MOCK CUDA driver: host memcpy figures, not a GPU' : probe.detail;
  process.stderr.write(`GPU section on ${driver}; sizes ${sizes.map(sizeLabel).join(', ')}\n`);
  const results: Measurement[] = [];
  const log = (ms: Measurement[]): void => {
    for (const x of ms) process.stderr.write(`  ${x.path.padEnd(44)} ${sizeLabel(x.bytes).padStart(8)}  median ${x.medianUs.toFixed(1)} us  ${x.gbps.toFixed(2)} GB/s\n`);
    results.push(...ms);
  };

  process.stderr.write('bare copies, plain processes\n');
  log(await inProcessDtoD(sizes));
  log(await crossProcessDtoD(sizes));
  log(await hostDeviceCopies(sizes));

  const transports = cudaTransports();
  await init();
  try {
    // Two actors on the one GPU (half each), as on a one-GPU machine.
    const a = await spawn(GpuBenchActor, { name: 'gpu-sender', numGpus: 0.5 });
    const b = await spawn(GpuBenchActor, { name: 'gpu-receiver', numGpus: 0.5 });
    const groups: CollectiveGroupHandle[] = [];
    const usable: string[] = [];
    for (const tr of transports) {
      try {
        if (getTransport(tr).plugin.kind === 'two-sided') groups.push(await createCollectiveGroup([a, b], { backend: tr as never }));
        usable.push(tr);
      } catch (err) {
        process.stderr.write(`  ${tr} skipped: ${(err as Error).message}\n`);
      }
    }
    process.stderr.write(`actor to actor, interleaved: ${[STORE_CPU, ...usable.map(pathLabel)].join(' | ')}\n`);
    log(await actorPaths(a, b, usable, sizes));
    process.stderr.write('host<->device copies inside an actor\n');
    log(await get(a.hostDevice.remote(sizes)));
    for (const g of groups) await destroyCollectiveGroup(g);
  } finally {
    await shutdown();
  }

  const targets = evaluateTargets(results, { cudaIpc: pathLabel('cuda-ipc'), ceiling: CEILING, storeCpu: STORE_CPU });
  const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${driver}, Node ${process.version}`;
  const md = `# tensorwire GPU benchmarks\n\n${new Date().toISOString()} on ${machine}\n\nThroughput is bytes / median time (GB/s = 1e9 B/s); 1 KiB shows the median latency.\n\n${markdownTable(results)}\n\n## Targets\n\n${targetsTable(targets)}\n`;
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'gpu-bench.md'), md);
  fs.writeFileSync(path.join(outDir, 'gpu-bench.json'), JSON.stringify({ when: new Date().toISOString(), machine, mock, results, targets }, null, 2) + '\n');
  process.stdout.write(md);
}

main().catch((err) => {
  process.stderr.write(`GPU benchmarks failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
