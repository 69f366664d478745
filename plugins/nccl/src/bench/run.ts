/** Runs every path of the NCCL benchmark, one after the other. */
import { openNccl } from '../library';
import { runActorNccl } from './actors';
import { runBareNccl } from './bare';
import type { NcclBenchReport } from './report';
import { DEFAULT_SIZES, defaultReps, type PathReport } from './results';
import { runTorchNccl } from './torch';

export interface NcclBenchOptions {
  /** Bytes per transfer (default 1 KiB, 1 MiB, 64 MiB, 256 MiB, 1 GiB). */
  readonly sizes?: readonly number[];
  /** Timed repetitions per size (default: 200 at 1 KiB down to 5 at 1 GiB). */
  readonly reps?: (size: number) => number;
  readonly warmup?: number;
  /** Paths to leave out: 'bare', 'actors', 'torch'. */
  readonly skip?: readonly string[];
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

/**
 * The NCCL benchmark: bare NCCL send/recv between two plain processes (the ceiling), the nccl GPU
 * object actor to actor, and torch.distributed's NCCL send/recv when Python with torch is here.
 * On a machine without a GPU it runs on the mocks when TENSORWIRE_LIBCUDA/TENSORWIRE_LIBNCCL
 * name them (the figures then say nothing about NCCL; the run proves the paths work).
 *
 * @example
 * ```ts
 * import { runNcclBench, formatReport } from '@tensorwire/nccl/bench';
 * console.log(formatReport(await runNcclBench({ sizes: [1 << 20, 64 << 20] })));
 * ```
 */
export async function runNcclBench(options: NcclBenchOptions = {}): Promise<NcclBenchReport> {
  const nccl = openNccl(); // NcclUnavailableError first, naming what is missing
  const sizes = options.sizes ?? DEFAULT_SIZES;
  const reps = options.reps ?? defaultReps;
  const skip = new Set(options.skip ?? []);
  const log = options.log ?? (() => {});
  const paths: PathReport[] = [];
  const common = { sizes, reps, warmup: options.warmup };
  if (!skip.has('bare')) {
    log('bare NCCL send/recv ...');
    paths.push(await runBareNccl(common));
  }
  if (!skip.has('actors')) {
    log('nccl GPU objects actor to actor ...');
    paths.push(...(await runActorNccl(common)));
  }
  if (!skip.has('torch')) {
    log('torch.distributed NCCL ...');
    paths.push(await runTorchNccl(common));
  }
  return { when: new Date().toISOString(), mock: nccl.mock, nccl: nccl.version, paths };
}
