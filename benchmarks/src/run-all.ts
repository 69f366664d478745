/**
 * `npm run bench`: every path at 1 KiB, 1 MiB, 64 MiB and 256 MiB in one run, with the raw
 * baselines measured in the same run. Writes benchmarks/results/latest.{json,md,svg}.
 * Environment: BENCH_SIZES (comma-separated bytes) to narrow the sizes, BENCH_SKIP (comma list
 * of 'gloo', 'nixl', 'torch', 'multihost') to skip sections. The multihost section (the same
 * actor paths across two hosts of a Slurm cluster of namespaces) runs where it can (root,
 * namespaces) and says why not elsewhere.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { init, shutdown, spawn } from '@tensorwire/core';
import { SIZES, type Measurement } from './harness/stats';
import { writeReport } from './harness/report';
import { memcpyBaseline, socketBaselines } from './baselines/socket';
import { torchGlooBaseline } from './baselines/torch-gloo';
import { emptyCallRtt } from './suites/runtime-paths';
import { BenchActor } from './suites/bench-actor';
import { sectionPaths, transportSections } from './suites/transports';
import { multihostPaths } from './multihost/multihost-paths';

async function main(): Promise<void> {
  const sizes = process.env.BENCH_SIZES ? process.env.BENCH_SIZES.split(',').map(Number) : [...SIZES];
  const skip = new Set((process.env.BENCH_SKIP ?? '').split(',').filter(Boolean));
  const results: Measurement[] = [];
  const log = (m: Measurement[]): void => {
    for (const x of m) process.stderr.write(`  ${x.path.padEnd(34)} ${String(x.bytes).padStart(10)} B  median ${x.medianUs.toFixed(1)} us  ${x.gbps.toFixed(3)} GB/s\n`);
    results.push(...m);
  };

  process.stderr.write('baselines\n');
  const sock = await socketBaselines(sizes);
  log([sock.rtt, ...sock.transfers]);
  log(await memcpyBaseline(sizes));
  if (!skip.has('torch')) {
    try {
      log(torchGlooBaseline(sizes));
    } catch (err) {
      process.stderr.write(`  torch.distributed baseline skipped: ${(err as Error).message}\n`);
    }
  }

  // Transport plugins are loaded before any actor starts, so every actor loads them too.
  const sections = transportSections(skip);
  await init();
  try {
    process.stderr.write('runtime\n');
    log([await emptyCallRtt((line) => process.stderr.write(`${line}\n`))]);
    for (const section of sections) {
      process.stderr.write(`${section.name} ceiling\n`);
      try {
        log(await section.ceilings(sizes));
      } catch (err) {
        process.stderr.write(`  skipped: ${(err as Error).message}\n`);
      }
    }
    const a = await spawn(BenchActor, { name: 'bench-sender' });
    const b = await spawn(BenchActor, { name: 'bench-receiver' });
    log(await sectionPaths(a, b, sections, sizes, (line) => process.stderr.write(`${line}\n`)));
  } finally {
    await shutdown();
  }
  if (!skip.has('multihost')) {
    process.stderr.write('actor to actor across two hosts (Slurm cluster of namespaces on this machine)\n');
    try {
      log(await multihostPaths(sections, sizes, (line) => process.stderr.write(`${line}\n`)));
    } catch (err) {
      process.stderr.write(`  skipped: ${(err as Error).message}\n`);
    }
  }

  const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
  const files = writeReport(path.join(__dirname, '..', 'results'), results, machine);
  process.stderr.write(`wrote ${files.join(', ')}\n`);
}

main().catch((err) => {
  process.stderr.write(`benchmark failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
