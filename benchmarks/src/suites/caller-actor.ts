/**
 * The calling side of Ray's `n:n actor calls async` shape: an actor that calls other actors
 * (receivers) many times at once and waits for all the results. Calls made inside an actor go
 * through the driver, as every tensorwire call does.
 */
import { actor, get, type ActorHandle, type ObjectRef } from '@tensorwire/core';
import type { BenchActor } from './bench-actor';

@actor()
export class CallerActor {
  private receivers: ActorHandle<BenchActor>[] = [];

  /** The actors `batch` calls (handed over once, outside the timed part). */
  setReceivers(receivers: ActorHandle<BenchActor>[]): number {
    this.receivers = receivers;
    return receivers.length;
  }

  /** `calls` calls of `smallValue`, spread round robin over the receivers, all in flight at once. */
  async batch(calls: number): Promise<number> {
    const n = this.receivers.length;
    if (n === 0) throw new Error('call setReceivers(handles) first');
    const refs: ObjectRef<string>[] = [];
    for (let i = 0; i < calls; i++) refs.push(this.receivers[i % n]!.smallValue.remote());
    await get(refs);
    return calls;
  }
}
