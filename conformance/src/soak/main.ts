#!/usr/bin/env node
/**
 * `npm run soak`: a long soak of GPU-object transfers per transport (default 30 000 each over
 * gloo, nixl and the object store), sampling the RSS of the driver and both actors, their open
 * file descriptors, and the objects held, every N transfers. Prints Markdown: the samples, and
 * a before / peak / end / after table per transport. Exits 1 when something was not released
 * (the same checks as the conformance suite's bounded soak), 2 on a usage error.
 *
 *   node conformance/dist/soak/main.js [--transfers N] [--every N] [--window N]
 *       [--transports gloo,nixl,object-store] [--inline-bytes N]
 *
 * --transports takes transport names of installed @tensorwire packages ('gloo', 'nixl'),
 * 'object-store', or module paths of third-party transports.
 */
import * as os from 'node:os';
import { core } from '../system/core-api';
import { collectRefs } from '../system/resources';
import { OBJECT_STORE, runSoak, soakTable, type SoakSample } from '../system/soak';
import { loadTarget } from '../target';

interface Args {
  transfers: number;
  every?: number;
  window: number;
  transports: string[];
  inlineBytes: number;
}

const USAGE = 'usage: soak [--transfers N] [--every N] [--window N] [--transports gloo,nixl,object-store] [--inline-bytes N]\n';

function usage(message: string): never {
  process.stderr.write(`${message}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { transfers: 30_000, window: 8, transports: ['gloo', 'nixl', OBJECT_STORE], inlineBytes: 0 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    const num = (): number => {
      const n = Number(value);
      if (value === undefined || !Number.isInteger(n) || n < 0) usage(`${flag} needs a non-negative integer, got ${value}`);
      i++;
      return n;
    };
    switch (flag) {
      case '--transfers': a.transfers = num(); break;
      case '--every': a.every = Math.max(1, num()); break;
      case '--window': a.window = Math.max(1, num()); break;
      case '--inline-bytes': a.inlineBytes = num(); break;
      case '--transports':
        if (!value) usage('--transports needs a comma-separated list');
        a.transports = value.split(',').map((s) => s.trim()).filter(Boolean);
        i++;
        break;
      case '-h': case '--help':
        process.stdout.write(USAGE);
        process.exit(0);
      // falls through (exit does not return)
      default: usage(`unknown argument ${flag}`);
    }
  }
  return a;
}

/** A transport name or module -> what to load and its registered name. */
function resolveTransport(spec: string): { name: string; module?: string; needsGroup: boolean } {
  if (spec === OBJECT_STORE) return { name: OBJECT_STORE, needsGroup: false };
  const module = /^[a-z][a-z0-9-]*$/.test(spec) ? `@tensorwire/${spec}` : spec;
  const t = loadTarget(module, process.cwd());
  return { name: t.name, module: t.module, needsGroup: t.plugin.kind === 'two-sided' };
}

const mib = (b?: number) => (b === undefined ? '-' : (b / 2 ** 20).toFixed(1));

function sampleRow(s: SoakSample): string {
  return `| ${s.phase} | ${s.done} | ${(s.ms / 1000).toFixed(1)} | ${mib(s.driver.rss)} | ${mib(s.producer.rss)} | ${mib(s.consumer.rss)} | ` +
    `${s.driver.fds ?? '-'} / ${s.producer.fds ?? '-'} / ${s.consumer.fds ?? '-'} | ${s.store?.entries ?? '-'} | ${s.store?.objects ?? '-'} | ` +
    `${s.producer.gpuObjects} | ${s.producer.pendingTransfers} | ${s.consumer.receivedCopies} |`;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  let targets: ReturnType<typeof resolveTransport>[];
  try {
    targets = args.transports.map(resolveTransport);
  } catch (e) {
    usage((e as Error).message);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ConformanceActor } = require('../system/actors') as typeof import('../system/actors');
  await core.init({
    transports: targets.flatMap((t) => (t.module ? [t.module] : [])),
    inlineGpuObjectBytes: args.inlineBytes,
  });
  const out = (s = '') => process.stdout.write(`${s}\n`);
  out(`# tensorwire soak`);
  out();
  out(`${args.transfers} transfers per transport, ${args.window} in flight; node ${process.version}, ${os.cpus().length} CPUs, ` +
    `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; inlineGpuObjectBytes ${args.inlineBytes}. ` +
    'Each transfer: the producer makes an int32 tensor (1 KiB, every 97th 1 MiB), the consumer sums it; every 10th is also ' +
    'read by the driver (half over the transport, half through the object store); 3 in 4 refs are freed with free(), the rest collected.');
  let failed = false;
  const summary: string[] = [];
  try {
    for (const t of targets) {
      out();
      out(`## ${t.name}`);
      out();
      const p = await core.spawn(ConformanceActor, { name: `soak-${t.name}-producer` });
      const c = await core.spawn(ConformanceActor, { name: `soak-${t.name}-consumer` });
      let group: unknown;
      try {
        if (t.needsGroup) group = await core.createCollectiveGroup([p, c], { backend: t.name });
        out('| phase | transfers | s | driver RSS MiB | producer RSS MiB | consumer RSS MiB | fds driver / producer / consumer | object table | store objects | producer GPU objects | sends in flight | received copies |');
        out('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
        const r = await runSoak(p, c, {
          transfers: args.transfers,
          transport: t.name,
          window: args.window,
          sampleEvery: args.every ?? Math.max(1, Math.ceil(args.transfers / 20)),
          onSample: (s) => out(sampleRow(s)),
        });
        out();
        out(soakTable(r));
        out();
        const rate = Math.round((r.transfers * 1000) / Math.max(1, r.loopMs));
        out(`${r.transfers} transfers in ${(r.loopMs / 1000).toFixed(1)} s (${rate}/s); wrong results: ${r.wrong}.`);
        if (r.problems.length) {
          failed = true;
          out();
          out('**Not released:**');
          for (const pr of r.problems) out(`- ${pr}`);
        } else {
          out('Everything was released: no GPU object, tensor, copy or send held; object table and store at baseline; no fd or process gained.');
        }
        const rssGrowth = (r.after.driver.rss ?? 0) - (r.before.driver.rss ?? 0);
        summary.push(`| ${t.name} | ${r.transfers} | ${rate}/s | ${mib(r.before.driver.rss)} -> ${mib(r.after.driver.rss)} (${rssGrowth >= 0 ? '+' : ''}${mib(rssGrowth)}) | ` +
          `${mib(r.before.producer.rss)} -> ${mib(r.after.producer.rss)} | ${mib(r.before.consumer.rss)} -> ${mib(r.after.consumer.rss)} | ` +
          `${r.before.driver.fds}/${r.before.producer.fds}/${r.before.consumer.fds} -> ${r.after.driver.fds}/${r.after.producer.fds}/${r.after.consumer.fds} | ` +
          `${r.peak.producer.gpuObjects} -> ${r.after.producer.gpuObjects} | ${r.problems.length ? 'FAILED' : 'ok'} |`);
      } finally {
        if (group) await core.destroyCollectiveGroup(group as never).catch(() => undefined);
        await core.kill(p).catch(() => undefined);
        await core.kill(c).catch(() => undefined);
        await collectRefs();
      }
    }
  } finally {
    await core.shutdown();
  }
  out();
  out('## Summary');
  out();
  out('| transport | transfers | rate | driver RSS MiB before -> after | producer RSS | consumer RSS | fds driver/producer/consumer | GPU objects peak -> after | result |');
  out('|---|---:|---:|---|---|---|---|---|---|');
  for (const line of summary) out(line);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`soak failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
