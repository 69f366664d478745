/**
 * Transport sections of the benchmark: each transport's bare ceiling (its own addon between two
 * plain processes) and its GPU-object paths, which run interleaved with the object-store path.
 * A plugin that is not installed or not available here is reported as skipped.
 */
import { createCollectiveGroup, destroyCollectiveGroup, type ActorHandle } from '@tensorwire/core';
// Type-only: the plugins' transport names ('gloo', 'nixl') for the compiler. Their code is
// loaded below at run time, and only when installed.
import type {} from '@tensorwire/gloo';
import type {} from '@tensorwire/nixl';
import { measurement, type Measurement } from '../harness/stats';
import { compareActorPaths, type ActorPath } from './runtime-paths';
import type { BenchActor } from './bench-actor';
import { LABELS } from '../harness/labels';

export interface Section {
  name: string;
  /** The bare ceiling(s), measured between plain processes. */
  ceilings(sizes: readonly number[]): Promise<Measurement[]>;
  paths: ActorPath[];
  /** Prepare the actors (e.g. a collective group); returns the undo. */
  setup?(a: ActorHandle<BenchActor>, b: ActorHandle<BenchActor>): Promise<() => Promise<void>>;
}

interface BareRow { bytes: number; medianUs: number; reps?: number }

function fromBare(label: string, rows: readonly BareRow[]): Measurement[] {
  return rows.map((r) => ({ ...measurement(label, r.bytes, [r.medianUs * 1000]), reps: r.reps ?? 1 }));
}

/** Load a plugin package now (registering it, before any actor starts), or say why not. */
function load(pkg: string): any {
  try {
    return require(pkg);
  } catch (err) {
    process.stderr.write(`  ${pkg} skipped: ${(err as Error).message.split('\n')[0]}\n`);
    return undefined;
  }
}

export function transportSections(skip: ReadonlySet<string>): Section[] {
  const sections: Section[] = [];
  // The plugin registers its transport; its ./bench subpath has the bare ceiling.
  const gloo = skip.has('gloo') ? undefined : load('@tensorwire/gloo') && load('@tensorwire/gloo/bench');
  if (gloo) {
    sections.push({
      name: 'gloo',
      async ceilings(sizes) {
        const bare = await gloo.runBareGlooPingPong({ sizes, reps: 7 });
        const rows = bare.results.map((r: { size: number; reps: number; medianOneWayUs: number }) => ({
          bytes: r.size, reps: r.reps, medianUs: r.medianOneWayUs,
        }));
        return fromBare(LABELS.bareGloo, rows);
      },
      paths: [{ label: LABELS.glooObject, transport: 'gloo' }],
      async setup(a, b) {
        const group = await createCollectiveGroup([a, b], { backend: 'gloo' });
        return () => destroyCollectiveGroup(group);
      },
    });
  }
  const nixl = skip.has('nixl') ? undefined : load('@tensorwire/nixl') && load('@tensorwire/nixl/bench');
  if (nixl) {
    sections.push({
      name: 'nixl',
      async ceilings(sizes) {
        const node = await nixl.runBareUcxRead({ sizes, reps: 10, pool: false });
        const pool = await nixl.runBareUcxRead({ sizes, reps: 10, pool: true });
        return [
          ...fromBare(LABELS.bareUcxNode, node.rows),
          ...fromBare(LABELS.bareUcxPool, pool.rows),
        ];
      },
      paths: [
        { label: LABELS.nixlNode, transport: 'nixl' },
        { label: LABELS.nixlPool, transport: 'nixl', registered: true },
      ],
    });
  }
  return sections;
}

/**
 * The object store and every section's GPU-object paths between `a` and `b`, interleaved
 * (compareActorPaths), each section set up first and undone after; a section whose setup fails
 * is skipped with a line to `say`. Shared by the one-host and the two-host runs.
 */
export async function sectionPaths(
  a: ActorHandle<BenchActor>,
  b: ActorHandle<BenchActor>,
  sections: readonly Section[],
  sizes: readonly number[],
  say: (line: string) => void,
): Promise<Measurement[]> {
  const undo: Array<() => Promise<void>> = [];
  const paths: ActorPath[] = [{ label: LABELS.objectStore }];
  for (const section of sections) {
    try {
      if (section.setup) undo.push(await section.setup(a, b));
      paths.push(...section.paths);
    } catch (err) {
      say(`  ${section.name} paths skipped: ${(err as Error).message}`);
    }
  }
  say(`actor to actor, interleaved: ${paths.map((p) => p.label).join(' | ')}`);
  const out = await compareActorPaths(a, b, paths, sizes, say);
  for (const u of undo) await u();
  return out;
}
