/** `spawn`, `kill` and actor introspection. */
import { handleInfo, type ActorHandle } from '../actor/handle';
import { InvalidArgumentError } from '../errors/errors';
import type { ActorStats } from '../runtime/protocol';
import { requireContext } from '../runtime/context';
import type { SpawnOptions } from '../driver/runtime';
import type { RemoteArgs } from '../actor/remote-args';
import { driverRuntime } from './lifecycle';

/**
 * What `spawn(cls, ...)` takes after the class: options that may be left out when the
 * constructor needs no argument, and that must carry `args` when it does.
 */
export type SpawnRest<C extends new (...args: any) => any> = [] extends ConstructorParameters<C>
  ? [options?: SpawnOptions<ConstructorParameters<C>>]
  : [options: SpawnOptions<ConstructorParameters<C>> & { args: RemoteArgs<ConstructorParameters<C>> }];

/**
 * Start an actor of an `@actor` class in its own process and return its handle once it is
 * constructed. `args` are typed from the class's constructor (an ObjectRef may stand for any
 * of them); they are required when the constructor has required parameters.
 *
 * @example
 * ```ts
 * // class Worker { constructor(scale: number, label = 'w') { ... } }
 * const w = await spawn(Worker, { name: 'w1', args: [2] });
 * ```
 */
export function spawn<C extends new (...args: any) => any>(cls: C, ...options: SpawnRest<C>): Promise<ActorHandle<InstanceType<C>>> {
  return driverRuntime('spawn').spawn<InstanceType<C>>(cls, (options[0] ?? {}) as SpawnOptions);
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
