/**
 * Runtime paths: an empty call's round trip, and moving a tensor from one actor to another
 * through the object store or as a GPU object over a transport.
 */
import { free, get, spawn, type ActorHandle, type TensorTransportName } from '@tensorwire/core';
import { measurement, repsFor, sampleInterleaved, sizeLabel, type Measurement } from '../harness/stats';
import { describeWarmup, warmUp, warmupFor } from '../harness/warmup';
import { BenchActor } from './bench-actor';
import { LABELS } from '../harness/labels';

/**
 * `await get(actor.noop.remote())`, `reps` times, after a warm-up until steady (at least 3000
 * calls and 2 s: harness/warmup.ts says why).
 */
export async function emptyCallRtt(say: (line: string) => void, reps = 2000): Promise<Measurement> {
  const a = await spawn(BenchActor);
  const { samples, warmup } = await sampleInterleaved([() => get(a.noop.remote())], reps, warmupFor(0));
  say(`  empty call: ${describeWarmup(warmup)}`);
  return measurement(LABELS.emptyCall, 0, samples[0]!, warmup);
}

/** One way of moving the sender's tensor to the receiver. */
export interface ActorPath {
  label: string;
  /** undefined: the object store */
  transport?: TensorTransportName;
  /** the tensor lives in the transport's registered pool */
  registered?: boolean;
}

/**
 * One timed rep of `path`: `get(receiver.consume.remote(sender.give.remote()))` (the tensor
 * prepared beforehand), then `free` of the sender's ref.
 */
export function transferRun(
  sender: ActorHandle<BenchActor>,
  receiver: ActorHandle<BenchActor>,
  path: ActorPath,
): () => Promise<void> {
  const method = path.registered ? sender.giveRegistered : sender.give;
  const give = path.transport ? method.options({ tensorTransport: path.transport }) : method;
  return async () => {
    const ref = give.remote();
    await get(receiver.consume.remote(ref));
    await free(ref);
  };
}

/**
 * Time of `get(receiver.consume.remote(sender.give.remote()))` (two calls plus the move) for
 * each path, with the tensor made beforehand. The paths take turns rep by rep, so drift of a
 * noisy machine (GC, other load) falls on all of them alike, after a warm-up in which they
 * take turns too, until steady (harness/warmup.ts: V8 optimizes an actor call's code only
 * after ~3000 calls). When the run's smallest size is above 64 KiB, the paths first warm up
 * at 1 KiB (untimed), so that the call code is optimized before the first timed size.
 */
export async function compareActorPaths(
  sender: ActorHandle<BenchActor>,
  receiver: ActorHandle<BenchActor>,
  paths: readonly ActorPath[],
  sizes: readonly number[],
  say: (line: string) => void = () => {},
): Promise<Measurement[]> {
  const prepared = async (n: number): Promise<Array<() => Promise<void>>> => {
    await get(sender.prepare.remote(n));
    const pool = paths.find((p) => p.registered && p.transport);
    if (pool) await get(sender.prepareRegistered.remote(n, pool.transport!));
    return paths.map((p) => transferRun(sender, receiver, p));
  };
  const out: Measurement[] = [];
  const smallest = Math.min(...sizes);
  if (smallest > 64 << 10) {
    const w = await warmUp(await prepared(1 << 10), warmupFor(1 << 10));
    say(`  code warm-up at 1 KiB: ${describeWarmup(w)}`);
  }
  for (const n of sizes) {
    const { samples, warmup } = await sampleInterleaved(await prepared(n), repsFor(n), warmupFor(n));
    say(`  ${sizeLabel(n)}: ${describeWarmup(warmup)}, ${repsFor(n)} timed reps`);
    paths.forEach((p, i) => out.push(measurement(p.label, n, samples[i]!, warmup)));
  }
  return out;
}
