/**
 * Transport sections of the benchmark: each GPU-object path beside its bare ceiling (the
 * plugin's own addon between two plain processes), in the same run. A plugin that is not
 * installed or not available here is reported as skipped.
 */
import { createCollectiveGroup, destroyCollectiveGroup, type ActorHandle } from '@tensorwire/core';
import { measurement, type Measurement } from '../harness/stats';
import { actorToActor } from './runtime-paths';
import type { BenchActor } from './bench-actor';

export interface Section {
  name: string;
  run(a: ActorHandle<BenchActor>, b: ActorHandle<BenchActor>, sizes: readonly number[]): Promise<Measurement[]>;
}

interface BareResult { bytes: number; medianUs: number; gbps?: number; reps?: number }

function fromBare(label: string, rows: readonly BareResult[]): Measurement[] {
  return rows.map((r) => {
    const m = measurement(label, r.bytes, [r.medianUs * 1000]);
    return { ...m, reps: r.reps ?? m.reps };
  });
}

/** Load a plugin package now (registering it), or remember why it could not be loaded. */
function load(pkg: string): () => any {
  try {
    const mod = require(pkg);
    return () => mod;
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0];
    return () => {
      throw new Error(`${pkg} could not be loaded: ${msg}`);
    };
  }
}

export function transportSections(skip: ReadonlySet<string>): Section[] {
  const sections: Section[] = [];
  if (!skip.has('gloo')) {
    const plugin = load('@tensorwire/gloo');
    sections.push({
      name: 'gloo',
      async run(a, b, sizes) {
        const gloo = plugin();
        const out: Measurement[] = [];
        const bare = await gloo.runBareGlooPingPong({ sizes, reps: 7 });
        const rows: BareResult[] = bare.results.map((r: { size: number; reps: number; medianOneWayUs: number }) => ({
          bytes: r.size, reps: r.reps, medianUs: r.medianOneWayUs,
        }));
        out.push(...fromBare('bare gloo send/recv (ceiling)', rows));
        const group = await createCollectiveGroup([a, b], { backend: 'gloo' });
        try {
          out.push(...(await actorToActor('gloo GPU object (actor to actor)', a, b, sizes, 'gloo')));
        } finally {
          await destroyCollectiveGroup(group);
        }
        return out;
      },
    });
  }
  if (!skip.has('nixl')) {
    const plugin = load('@tensorwire/nixl');
    sections.push({
      name: 'nixl',
      async run(a, b, sizes) {
        const nixl = plugin();
        const out: Measurement[] = [];
        const node = await nixl.runBareUcxRead({ sizes, reps: 10, pool: false });
        const pool = await nixl.runBareUcxRead({ sizes, reps: 10, pool: true });
        out.push(...fromBare('bare UCX read, Node memory (ceiling)', node.rows));
        out.push(...fromBare('bare UCX read, pool memory (ceiling)', pool.rows));
        out.push(...(await actorToActor('nixl GPU object, Node memory', a, b, sizes, 'nixl')));
        out.push(...(await actorToActor('nixl GPU object, pool memory', a, b, sizes, 'nixl', true)));
        return out;
      },
    });
  }
  return sections;
}
