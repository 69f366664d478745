/**
 * What each performance lever buys (issue 12): the actor-to-actor paths measured in one run
 * with every lever on and with one lever off at a time, each variant on its own pair of
 * actors, all pairs taking turns rep by rep (so machine drift falls on every variant alike).
 * A lever is turned off through the environment its actors start with, which is how a user
 * turns it off too.
 */
import { get, kill, spawn, type ActorHandle } from '@tensorwire/core';
import { measurement, repsFor, sampleInterleaved, sizeLabel, type Measurement } from '../harness/stats';
import { describeWarmup, warmupFor } from '../harness/warmup';
import { BenchActor } from './bench-actor';
import { transferRun, type ActorPath } from './runtime-paths';
import type { Section } from './transports';

/** One lever: its name and the environment that turns it off in the actors. */
export interface Lever {
  name: string;
  off: Record<string, string>;
}

/** Malloc settings of actors before issue 12 (no transparent huge pages). */
const TUNABLES_WITHOUT_HUGE_PAGES = 'glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4294967295';

export const LEVERS: readonly Lever[] = [
  { name: 'receive pool', off: { TENSORWIRE_RECEIVE_POOL_BYTES: '0' } },
  { name: 'huge pages', off: { GLIBC_TUNABLES: TUNABLES_WITHOUT_HUGE_PAGES } },
  { name: 'shared-memory object store', off: { TENSORWIRE_OBJECT_STORE: 'memory' } },
];

export interface LeverRow {
  path: string;
  bytes: number;
  /** Median us with every lever on. */
  allOnUs: number;
  /** Median us with each lever off, by lever name. */
  offUs: Record<string, number>;
}

interface Pair {
  variant: string;
  a: ActorHandle<BenchActor>;
  b: ActorHandle<BenchActor>;
  /** Undo the sections' setup (collective groups). */
  undo: Array<() => Promise<void>>;
}

/** Spawn a sender/receiver pair whose processes start with `env` added to this one's. */
async function spawnPair(variant: string, env: Record<string, string>, sections: readonly Section[]): Promise<Pair> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const a = await spawn(BenchActor, { name: `lever-sender-${variant.replace(/\W+/g, '-')}` });
    const b = await spawn(BenchActor, { name: `lever-receiver-${variant.replace(/\W+/g, '-')}` });
    const undo: Array<() => Promise<void>> = [];
    for (const s of sections) if (s.setup) undo.push(await s.setup(a, b));
    return { variant, a, b, undo };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/**
 * Every section's actor paths (and the object store), at `sizes`, with all levers on and with
 * each lever off. Returns one row per path and size.
 */
export async function leverRows(
  sections: readonly Section[],
  sizes: readonly number[],
  say: (line: string) => void,
  levers: readonly Lever[] = LEVERS,
): Promise<{ rows: LeverRow[]; measurements: Measurement[] }> {
  const paths: ActorPath[] = [{ label: 'object store (actor to actor)' }, ...sections.flatMap((s) => s.paths)];
  const pairs: Pair[] = [await spawnPair('all on', {}, sections)];
  for (const l of levers) pairs.push(await spawnPair(`without ${l.name}`, l.off, sections));
  say(`  variants: ${pairs.map((p) => p.variant).join(' | ')}; paths: ${paths.map((p) => p.label).join(' | ')}`);
  try {
    return await measurePairs(pairs, paths, sizes, say, levers);
  } finally {
    // Their tensors, registrations and receive pools would crowd out the sections after this one.
    for (const p of pairs) {
      for (const u of p.undo) await u();
      await Promise.all([kill(p.a), kill(p.b)]);
    }
  }
}

async function measurePairs(
  pairs: readonly Pair[],
  paths: readonly ActorPath[],
  sizes: readonly number[],
  say: (line: string) => void,
  levers: readonly Lever[],
): Promise<{ rows: LeverRow[]; measurements: Measurement[] }> {
  const rows: LeverRow[] = [];
  const measurements: Measurement[] = [];
  for (const n of sizes) {
    const runs: Array<() => Promise<void>> = [];
    const keys: Array<{ pair: Pair; path: ActorPath }> = [];
    for (const pair of pairs) {
      await get(pair.a.prepare.remote(n));
      const pool = paths.find((p) => p.registered && p.transport);
      if (pool) await get(pair.a.prepareRegistered.remote(n, pool.transport!));
      for (const path of paths) {
        keys.push({ pair, path });
        runs.push(transferRun(pair.a, pair.b, path));
      }
    }
    const { samples, warmup } = await sampleInterleaved(runs, repsFor(n), warmupFor(n));
    say(`  ${sizeLabel(n)}: ${describeWarmup(warmup)}, ${repsFor(n)} timed reps`);
    keys.forEach((k, i) => measurements.push(measurement(`${k.path.label} [${k.pair.variant}]`, n, samples[i]!, warmup)));
    for (const path of paths) {
      const us = (variant: string): number => {
        const i = keys.findIndex((k) => k.path === path && k.pair.variant === variant);
        return measurements[measurements.length - keys.length + i]!.medianUs;
      };
      const row: LeverRow = { path: path.label, bytes: n, allOnUs: us('all on'), offUs: {} };
      for (const l of levers) row.offUs[l.name] = us(`without ${l.name}`);
      rows.push(row);
      say(`  ${path.label.padEnd(34)} ${sizeLabel(n).padStart(8)}  all on ${(row.allOnUs / 1000).toFixed(2)} ms` +
        levers.map((l) => `; without ${l.name} ${(row.offUs[l.name]! / 1000).toFixed(2)} ms`).join(''));
    }
  }
  return { rows, measurements };
}

/** Markdown: per path and size, the time with all levers on, and what each lever buys. */
export function leversTable(rows: readonly LeverRow[], levers: readonly Lever[] = LEVERS): string {
  const gbps = (bytes: number, us: number): string => `${(bytes / us / 1e3).toFixed(2)} GB/s`;
  const head = `| path | size | all levers on | ${levers.map((l) => `without ${l.name}`).join(' | ')} |`;
  const sep = `|---|---|---|${levers.map(() => '---').join('|')}|`;
  const lines = rows.map((r) => {
    const cells = levers.map((l) => {
      const off = r.offUs[l.name]!;
      return `${(off / 1000).toFixed(2)} ms, ${gbps(r.bytes, off)} (lever: ${(off / r.allOnUs).toFixed(2)}x)`;
    });
    return `| ${r.path} | ${sizeLabel(r.bytes)} | ${(r.allOnUs / 1000).toFixed(2)} ms, ${gbps(r.bytes, r.allOnUs)} | ${cells.join(' | ')} |`;
  });
  return [head, sep, ...lines, '', '(lever: Nx) = time without the lever / time with every lever on: what the lever buys on that path.'].join('\n');
}
