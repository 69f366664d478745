/**
 * `npm run bench`: in one run on one machine, every path that moves a tensor between actors at
 * 1 KiB, 1 MiB, 64 MiB and 256 MiB beside the raw baselines; Ray's core microbenchmark shapes
 * and Ray RDT's transfer shapes; then issue 12's targets, each met / not met. Writes
 * benchmarks/results/latest.{json,md,svg} (or --out DIR).
 *
 * `npm run bench -- --with-torch` installs Debian's python3-torch first when torch is missing
 * (the torch.distributed gloo baseline); without it a missing torch is a skipped row.
 * Environment: see harness/options.ts (BENCH_SIZES, BENCH_RDT_SIZES, BENCH_SKIP, BENCH_QUICK,
 * BENCH_PUT_BYTES). The multihost section (the same actor paths across two hosts of a Slurm
 * cluster of namespaces) runs where it can (root, namespaces) and says why not elsewhere.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { init, shutdown, spawn } from '@tensorwire/core';
import { sizeLabel, type Measurement } from './harness/stats';
import { LABELS } from './harness/labels';
import { runOptions, type RunOptions } from './harness/options';
import { writeReport, type SkippedRow } from './harness/report';
import { targetsTable, verdict } from './harness/targets-table';
import { memcpyBaseline, socketBaselines } from './baselines/socket';
import { torchGlooBaseline } from './baselines/torch-gloo';
import { ensureTorch } from './baselines/torch-setup';
import { emptyCallRtt } from './suites/runtime-paths';
import { BenchActor } from './suites/bench-actor';
import { sectionPaths, transportSections } from './suites/transports';
import { rayCoreShapes, rayShapesTable, type RateResult } from './suites/ray-core';
import { RDT_SIZES, rdtShapes, rdtTable, type RdtResult } from './suites/rdt';
import { multihostPaths } from './multihost/multihost-paths';
import { leverRows, leversTable, type LeverRow } from './suites/levers';
import { evaluateTransferTargets } from './targets/transfer-targets';

const say = (line: string): void => void process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  let opts: RunOptions;
  try {
    opts = runOptions(process.argv.slice(2), process.env, path.join(__dirname, '..', 'results'));
  } catch (err) {
    say((err as Error).message);
    process.exit(2);
  }
  const { sizes, skip } = opts;
  const started = performance.now();
  const durations: Record<string, number> = {};
  /** Runs one section, recording how long it took (printed at the end: the run must stay short). */
  const timed = async <T>(name: string, body: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    say(name);
    try {
      return await body();
    } finally {
      durations[name] = (performance.now() - t0) / 1000;
    }
  };
  const results: Measurement[] = [];
  const skipped: SkippedRow[] = [];
  const log = (m: Measurement[]): void => {
    for (const x of m) say(`  ${x.path.padEnd(36)} ${String(x.bytes).padStart(10)} B  median ${x.medianUs.toFixed(1)} us  ${x.gbps.toFixed(3)} GB/s`);
    results.push(...m);
  };

  let torchSkipped: string | undefined;
  await timed('baselines', async () => {
    const sock = await socketBaselines(sizes);
    log([sock.rtt, ...sock.transfers]);
    log(await memcpyBaseline(sizes));
    if (skip.has('torch')) return;
    const torch = ensureTorch(opts.withTorch, say);
    try {
      if (!torch.available) throw new Error(torch.why);
      log(torchGlooBaseline(sizes));
    } catch (err) {
      torchSkipped = (err as Error).message;
      say(`  torch.distributed baseline skipped: ${torchSkipped}`);
      skipped.push({ path: LABELS.torchGloo, why: torchSkipped });
    }
  });

  // Transport plugins are loaded before any actor starts, so every actor loads them too.
  const sections = transportSections(skip);
  let ray: RateResult[] = [];
  let rdt: RdtResult[] = [];
  let levers: LeverRow[] = [];
  await init();
  try {
    await timed('runtime: empty call', async () => log([await emptyCallRtt(say)]));
    for (const section of sections) {
      await timed(`${section.name} ceiling`, async () => {
        try {
          log(await section.ceilings(sizes));
        } catch (err) {
          say(`  skipped: ${(err as Error).message}`);
        }
      });
    }
    const a = await spawn(BenchActor, { name: 'bench-sender' });
    const b = await spawn(BenchActor, { name: 'bench-receiver' });
    await timed('actor to actor', async () => log(await sectionPaths(a, b, sections, sizes, say)));
    if (!skip.has('levers')) {
      await timed('what each lever buys (each turned off in turn, same run)', async () => {
        levers = (await leverRows(sections, opts.leverSizes, say)).rows;
      });
    }
    if (!skip.has('rdt')) {
      await timed("Ray RDT's shapes (time per transfer, GB/s)", async () => {
        rdt = await rdtShapes(a, b, sections, opts.rdtSizes ?? [...RDT_SIZES], say);
      });
    }
    if (!skip.has('ray')) {
      await timed("Ray's core microbenchmark shapes", async () => {
        const memcpy = results.filter((r) => r.path === LABELS.memcpy).map((r) => r.gbps);
        ray = await rayCoreShapes(say, memcpy.length ? Math.max(...memcpy) : undefined);
      });
    }
  } finally {
    await shutdown();
  }
  if (!skip.has('multihost')) {
    await timed('actor to actor across two hosts (Slurm cluster of namespaces on this machine)', async () => {
      try {
        log(await multihostPaths(sections, sizes, say));
      } catch (err) {
        say(`  skipped: ${(err as Error).message}`);
      }
    });
  }

  const targets = evaluateTransferTargets(results, { torchSkipped });
  say("issue 12's targets");
  for (const t of targets) say(`  ${verdict(t.met).padEnd(12)} ${t.target}: ${t.value}`);

  const total = (performance.now() - started) / 1000;
  say(`sections: ${Object.entries(durations).map(([k, s]) => `${k} ${s.toFixed(0)} s`).join('; ')}; total ${total.toFixed(0)} s`);
  const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
  const sectionsMd = [
    { title: "Issue 12's targets (this run's figures)", markdown: targetsTable(targets) },
    { title: 'Warm-up', markdown: warmupSummary(results) },
    ...(levers.length ? [{ title: 'What each lever buys (same run; each lever off in turn on its own pair of actors)', markdown: leversTable(levers) }] : []),
    ...(ray.length ? [{ title: "Ray's core microbenchmark shapes", markdown: `${rayShapesTable(ray)}\n\nRay's figures are from Ray's release-test machine, not this one: context, not a target.` }] : []),
    ...(rdt.length ? [{ title: "Ray RDT's single-node shapes (time per transfer, GB/s)", markdown: rdtTable(rdt) }] : []),
  ];
  const files = writeReport(opts.outDir, { machine, results, skipped, targets, ray, rdt, durations, totalSeconds: total }, sectionsMd);
  say(`wrote ${files.join(', ')}`);
}

/** Which rows warmed up until steady and which stopped at the time cap (harness/warmup.ts). */
function warmupSummary(results: readonly Measurement[]): string {
  const warmed = results.filter((r) => r.warmup);
  const capped = warmed.filter((r) => !r.warmup!.steady);
  const lines = [
    'Every actor path, the empty call and the socket baselines warmed up before timing: at least 3000 reps and 2 s at <= 64 KiB, 300 reps and 1 s up to 4 MiB, then until two windows of reps agreed within 10%; 2 reps above 4 MiB (benchmarks/README.md says why).',
  ];
  if (capped.length) lines.push('', `Stopped at the time cap before two windows agreed (a noisy machine, or reps too slow for the cap, e.g. across two hosts; these figures may include partly cold code): ${capped.map((r) => `${r.path} at ${sizeLabel(r.bytes)} (${r.warmup!.reps} reps)`).join('; ')}.`);
  else if (warmed.length) lines.push('', 'Every warm-up reached steady state.');
  return lines.join('\n');
}

main().catch((err) => {
  say(`benchmark failed: ${(err as Error).stack}`);
  process.exit(1);
});
