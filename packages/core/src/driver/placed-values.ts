/**
 * The driver's side of the shared-memory object store (objects/value-placement.ts): chooses the
 * placement (init's objectStore option), names it to actors, learns where each actor reads
 * shared memory, inlines placed values for consumers that cannot read them (another host),
 * and tells the placement about dead producers and shutdown.
 */
import { InvalidArgumentError } from '../errors/errors';
import { freshBytes, registeredValuePlacement, withAttachments, type ValuePlacement } from '../objects/value-placement';
import type { ResolvedRef } from '../gpu/gpu-object';
import type { EncodedValue } from '../objects/encoded-value';
import type { ActorSpec } from '../runtime/protocol';
import type { ObjectStoreKind } from '../runtime/options';
import type { Logger } from '../log/logger';

/** The package that provides the shared-memory object store (loaded by name: core does not depend on it). */
export const SHM_STORE_PACKAGE = '@tensorwire/shm-store';

/**
 * The placement for `kind`: the registered one, else the package when installed ('auto'), or
 * undefined ('memory', or not installed). 'shared-memory' without a loadable package throws.
 */
export function chooseValuePlacement(kind: ObjectStoreKind, logger: Logger): ValuePlacement | undefined {
  if (kind === 'memory') return undefined;
  if (!registeredValuePlacement()) {
    let file: string | undefined;
    try {
      file = require.resolve(SHM_STORE_PACKAGE, { paths: [process.cwd(), __dirname] });
    } catch {
      if (kind === 'shared-memory') {
        throw new InvalidArgumentError(`init: objectStore 'shared-memory' needs ${SHM_STORE_PACKAGE}: \`npm install ${SHM_STORE_PACKAGE}\``);
      }
      return undefined;
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(file);
    } catch (err) {
      const why = `${SHM_STORE_PACKAGE} failed to load: ${(err as Error).message}`;
      if (kind === 'shared-memory') throw new InvalidArgumentError(`init: objectStore 'shared-memory': ${why}`, { cause: err });
      logger.warn(`${why}; ordinary results go through the driver (init({ objectStore: 'memory' }) silences this)`);
      return undefined;
    }
  }
  const p = registeredValuePlacement();
  try {
    p?.host(); // usable here (its native part loads)?
  } catch (err) {
    if (kind === 'shared-memory') throw new InvalidArgumentError(`init: objectStore 'shared-memory': ${(err as Error).message}`, { cause: err });
    logger.warn(`${(err as Error).message}; ordinary results go through the driver`);
    return undefined;
  }
  return p;
}

export class PlacedValues {
  /** Where each started actor reads shared memory (ValuePlacement.host there). */
  private readonly hosts = new Map<string, string>();

  constructor(
    private readonly placement: ValuePlacement | undefined,
    private readonly runtimeId: string,
  ) {
    placement?.driverStarted(runtimeId);
  }

  /** The ActorSpec field that makes an actor place its large results (undefined: it does not). */
  specField(): ActorSpec['valuePlacement'] {
    const p = this.placement;
    return p ? { module: p.module, driverHost: p.host(), runtimeId: this.runtimeId, driverPid: process.pid } : undefined;
  }

  /** An actor started; `host` is where it reads shared memory (undefined: it cannot). */
  started(actorId: string, host: string | undefined): void {
    if (typeof host === 'string') this.hosts.set(actorId, host);
  }

  /**
   * `r` as actor `consumerId` can use it: a placed value whose memory that actor cannot reach
   * (another host, no placement there, not started yet) is read here and sent inline.
   */
  async forConsumer(r: ResolvedRef, consumerId: string): Promise<ResolvedRef> {
    if (r.k !== 'value' || !r.value.placed || r.value.placed.host === this.hosts.get(consumerId)) return r;
    const inline = await withAttachments(r.value, freshBytes);
    return { k: 'value', value: inline };
  }

  /** A value entered the object store (placed ones are counted, so their producer's memory stays). */
  stored(value: EncodedValue): void {
    if (value.placed && value.placed.by === this.placement?.name) this.placement.stored(value);
  }

  /** A value left the object store (freed): a placed one's memory is reused by its producer. */
  released(value: EncodedValue | undefined): void {
    if (value?.placed && value.placed.by === this.placement?.name) this.placement.released(value);
  }

  /** A placed value that never entered the store (its object was freed or refused): its memory goes back. */
  unused(value: EncodedValue): void {
    this.stored(value);
    this.released(value);
  }

  actorDied(actorId: string): void {
    this.hosts.delete(actorId);
    this.placement?.producerDied(actorId);
  }

  shutdown(): void {
    this.hosts.clear();
    this.placement?.shutdown(this.runtimeId);
  }
}
