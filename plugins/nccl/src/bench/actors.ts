/**
 * tensorwire's path: an NCCL GPU object actor to actor, two actors sharing a GPU (numGpus 0.5).
 * One transfer: `await get(receiver.consume.remote(sender.give.remote()))` then `free`, the
 * tensor made beforehand (two calls plus the move, as the repository's other benchmarks time
 * it). Pipelined: `inFlight` of those at once, throughput = bytes moved / time.
 * Runs the runtime in this process (init ... shutdown): call it where no runtime is up.
 */
import { createCollectiveGroup, destroyCollectiveGroup, free, get, init, kill, shutdown, spawn } from '@tensorwire/core';
import { NcclBenchActor } from './bench-actor';
import { summarize, type PathReport } from './results';

export interface ActorBenchOptions {
  readonly sizes: readonly number[];
  readonly reps: (size: number) => number;
  readonly warmup?: number;
  /** Transfers in flight for the pipelined figure (default 4; 0 skips it). */
  readonly inFlight?: number;
}

export async function runActorNccl(options: ActorBenchOptions): Promise<PathReport[]> {
  await init();
  try {
    const sender = await spawn(NcclBenchActor, { numGpus: 0.5 });
    const receiver = await spawn(NcclBenchActor, { numGpus: 0.5 });
    const group = await createCollectiveGroup([sender, receiver], { backend: 'nccl' });
    const one = async (): Promise<void> => {
      const ref = sender.give.remote();
      await get(receiver.consume.remote(ref));
      free(ref);
    };
    const single: PathReport['results'][number][] = [];
    const piped: PathReport['results'][number][] = [];
    const k = options.inFlight ?? 4;
    for (const size of options.sizes) {
      await get(sender.keep.remote(size));
      for (let i = 0; i < (options.warmup ?? 3); i++) await one();
      const times: number[] = [];
      for (let i = 0; i < options.reps(size); i++) {
        const t0 = process.hrtime.bigint();
        await one();
        times.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
      single.push(summarize(size, times));
      if (k > 0) {
        const batches: number[] = [];
        for (let i = 0; i < Math.max(1, Math.ceil(options.reps(size) / k)); i++) {
          const t0 = process.hrtime.bigint();
          await Promise.all(Array.from({ length: k }, one));
          batches.push(Number(process.hrtime.bigint() - t0) / 1000 / k); // per transfer
        }
        piped.push(summarize(size, batches));
      }
    }
    await get(sender.drop.remote());
    await destroyCollectiveGroup(group);
    await Promise.all([kill(sender), kill(receiver)]);
    const out: PathReport[] = [{ path: 'nccl GPU object, actor to actor (one at a time)', results: single }];
    if (k > 0) out.push({ path: `nccl GPU object, actor to actor (${k} in flight, per transfer)`, results: piped });
    return out;
  } finally {
    await shutdown();
  }
}
