/** `spawn`, `kill` and actor introspection. */
import { handleInfo, type ActorHandle } from '../actor/handle';
import { InvalidArgumentError } from '../errors/errors';
import type { ActorStats } from '../runtime/protocol';
import { requireContext } from '../runtime/context';
import type { SpawnOptions } from '../driver/runtime';
import { driverRuntime } from './lifecycle';

/**
 * Start an actor of an `@actor()` class in its own process and return its handle once it
 * is constructed.
 *
 * @example
 * ```ts
 * const sender = await spawn(MyActor, { name: 'sender', args: [42] });
 * ```
 */
export function spawn<T>(cls: new (...args: any[]) => T, options: SpawnOptions = {}): Promise<ActorHandle<T>> {
  return driverRuntime('spawn').spawn(cls, options);
}

export function actorIdOf(handle: unknown, what: string): string {
  const info = handleInfo(handle);
  if (!info) throw new InvalidArgumentError(`${what}: expected an actor handle returned by spawn(), got ${typeof handle}`);
  return info.actorId;
}

/** Stop an actor's process at once; its pending and later calls fail with ActorDiedError. */
export async function kill(handle: ActorHandle<unknown>): Promise<void> {
  await requireContext('kill').kill(actorIdOf(handle, 'kill'));
}

/** GPU-object state of an actor: held objects and tensors, received copies, sends in flight. */
export function actorStats(handle: ActorHandle<unknown>): Promise<ActorStats> {
  return driverRuntime('actorStats').actorStats(actorIdOf(handle, 'actorStats'));
}

/** Objects and bytes in the driver's object store (and entries in its object table). */
export function objectStoreStats(): { objects: number; bytes: number; entries: number } {
  return driverRuntime('objectStoreStats').objectStoreStats();
}
