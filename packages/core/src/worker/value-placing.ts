/**
 * An actor's side of the shared-memory object store (objects/value-placement.ts): loads the
 * placement the driver named in the spec and places large results and puts with it. Any
 * failure (module missing, /dev/shm full) leaves values inline, as without it, with a warning.
 */
import type { EncodedValue } from '../objects/encoded-value';
import { registeredValuePlacement, type ValuePlacement } from '../objects/value-placement';
import type { ActorSpec } from '../runtime/protocol';
import type { Logger } from '../log/logger';

export class ValuePlacing {
  private constructor(private readonly placement: ValuePlacement | undefined) {}

  /** Set up from the spec (nothing to do when the driver named no placement). */
  static fromSpec(spec: ActorSpec, logger: Logger): ValuePlacing {
    const vp = spec.valuePlacement;
    // TENSORWIRE_OBJECT_STORE=memory in an actor's environment turns the store off for that
    // actor alone: it places nothing and is sent values inline, as everywhere without it.
    if (!vp || process.env.TENSORWIRE_OBJECT_STORE === 'memory') return new ValuePlacing(undefined);
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      if (!registeredValuePlacement()) require(vp.module);
      const p = registeredValuePlacement();
      if (!p) throw new Error(`${vp.module} registered no value placement`);
      p.configure({ runtimeId: vp.runtimeId, driverPid: vp.driverPid, actorId: spec.actorId, driverHost: vp.driverHost, warn: (m) => logger.warn(m) });
      return new ValuePlacing(p);
    } catch (err) {
      logger.warn(`actor ${spec.name}: the shared-memory object store (${vp.module}) could not be loaded, results go through the driver: ${(err as Error).message}`);
      return new ValuePlacing(undefined);
    }
  }

  /**
   * Where this process reads placed values (sent to the driver with 'started'); undefined when
   * the store is off here, so the driver sends this actor values inline.
   */
  host(): string | undefined {
    try {
      return this.placement?.host();
    } catch {
      return undefined;
    }
  }

  /** Whether `value` would be placed (then `place` is worth awaiting). */
  wants(value: EncodedValue): boolean {
    return this.placement !== undefined && this.placement.wants(value);
  }

  /** `value` placed in shared memory, or as it is (small, or no room: the placement warned). */
  async place(value: EncodedValue): Promise<EncodedValue> {
    if (!this.wants(value)) return value;
    return (await this.placement!.place(value)) ?? value;
  }
}
