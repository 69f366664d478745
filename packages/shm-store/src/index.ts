/**
 * `@tensorwire/shm-store`: the shared-memory object store. Importing it (the runtime does so by
 * itself when the package is installed, see init's `objectStore` option) registers it with core:
 * ordinary results of 1 MiB and up that actors on the driver's host produce are written once
 * into shared memory (/dev/shm) and read by consumers from there, instead of travelling
 * producer -> driver -> consumer over two sockets.
 *
 * @example
 * ```ts
 * import { init } from '@tensorwire/core';
 * await init(); // with @tensorwire/shm-store installed, large results go through shared memory
 * await init({ objectStore: 'memory' }); // or not
 * ```
 */
import { registerValuePlacement, registeredValuePlacement } from '@tensorwire/core/spi';
import { ShmPlacement } from './placement';
import type { ArenaStats } from './arena';

const existing = registeredValuePlacement();
const placement: ShmPlacement = existing instanceof ShmPlacement ? existing : new ShmPlacement();
if (existing !== placement) registerValuePlacement(placement);

/** The shared-memory store of this process (the registered one). */
export function shmStore(): ShmPlacement {
  return placement;
}

/**
 * Inside an actor: its arena (chunks, blocks held and free, reuse); undefined where it places
 * nothing (the driver, an actor on another host, the store turned off).
 *
 * @example
 * ```ts
 * @actor() class Producer { stats() { return shmArenaStats(); } }
 * ```
 */
export function shmArenaStats(): ArenaStats | undefined {
  return placement.arenaStats();
}

export { ShmPlacement, minPlacedBytes, arenaBound, type ShmPlaced } from './placement';
export { ShmStoreUnavailableError, ShmReadError } from './errors';
export type { ArenaStats } from './arena';
export { loadNative, type ShmBinding } from './native';
export { PREFIX as ARENA_FILE_PREFIX, storeDir } from './names';
