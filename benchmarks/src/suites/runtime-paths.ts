/**
 * Runtime paths: an empty call's round trip, and moving a tensor from one actor to another
 * through the object store or as a GPU object over a transport.
 */
import { free, get, spawn, type ActorHandle, type TensorTransportName } from '@tensorwire/core';
import { measurement, repsFor, sample, sampleInterleaved, type Measurement } from '../harness/stats';
import { BenchActor } from './bench-actor';
import { LABELS } from '../harness/labels';

export async function emptyCallRtt(reps = 2000): Promise<Measurement> {
  const a = await spawn(BenchActor);
  const m = measurement(LABELS.emptyCall, 0, await sample(() => get(a.noop.remote()), reps, 300));
  return m;
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
 * Time of `get(receiver.consume.remote(sender.give.remote()))` (two calls plus the move) for
 * each path, with the tensor made beforehand. The paths take turns rep by rep, so drift of a
 * noisy machine (GC, other load) falls on all of them alike.
 */
export async function compareActorPaths(
  sender: ActorHandle<BenchActor>,
  receiver: ActorHandle<BenchActor>,
  paths: readonly ActorPath[],
  sizes: readonly number[],
): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (const n of sizes) {
    await get(sender.prepare.remote(n));
    const pool = paths.find((p) => p.registered && p.transport);
    if (pool) await get(sender.prepareRegistered.remote(n, pool.transport!));
    const runs = paths.map((p) => {
      const method = p.registered ? sender.giveRegistered : sender.give;
      const give = p.transport ? method.options({ tensorTransport: p.transport }) : method;
      return async (): Promise<void> => {
        const ref = give.remote();
        await get(receiver.consume.remote(ref));
        await free(ref);
      };
    });
    const samples = await sampleInterleaved(runs, repsFor(n));
    paths.forEach((p, i) => out.push(measurement(p.label, n, samples[i]!)));
  }
  return out;
}
