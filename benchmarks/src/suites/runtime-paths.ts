/**
 * Runtime paths: an empty call's round trip, and moving a tensor from one actor to another
 * through the object store or as a GPU object over a transport.
 */
import { free, get, spawn, type ActorHandle } from '@tensorwire/core';
import { measurement, repsFor, sample, type Measurement } from '../harness/stats';
import { BenchActor } from './bench-actor';

export async function emptyCallRtt(reps = 2000): Promise<Measurement> {
  const a = await spawn(BenchActor);
  const m = measurement('empty actor call round trip', 0, await sample(() => get(a.noop.remote()), reps, 300));
  return m;
}

/**
 * Time of `get(receiver.consume.remote(sender.give.remote()))` with the tensor already made:
 * two calls plus the move. `transport` undefined means the object store.
 */
export async function actorToActor(
  label: string,
  sender: ActorHandle<BenchActor>,
  receiver: ActorHandle<BenchActor>,
  sizes: readonly number[],
  transport?: string,
  registered = false,
): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (const n of sizes) {
    await get(registered && transport ? sender.prepareRegistered.remote(n, transport) : sender.prepare.remote(n));
    const give = transport ? sender.give.options({ tensorTransport: transport }) : sender.give;
    const samples = await sample(async () => {
      const ref = give.remote();
      await get(receiver.consume.remote(ref));
      await free(ref);
    }, repsFor(n));
    out.push(measurement(label, n, samples));
  }
  return out;
}
