/**
 * The seam through which a package keeps the bytes of large ordinary values out of the
 * driver's sockets: a ValuePlacement (the shared-memory object store, @tensorwire/shm-store,
 * registers one when imported) writes a result's attachments once where every process on the
 * host can read them, and the value travels as a small descriptor (EncodedValue.placed).
 *
 * Who calls what: the producing actor `place`s its results (and puts); the driver keeps the
 * descriptor in its ObjectStore (whichever one is injected: the driver, not the store, tells
 * the placement when a value is `stored` and `released`, the latter when the object is freed,
 * so the producer reuses the memory), inlines it (`read`) for a consumer on another host, and
 * tells the placement about dead producers and shutdown; consumers `read` the bytes into memory they
 * choose (a call's receive pool, see gpu/borrowed-args.ts). Core never imports the package:
 * it finds the placement registered here (kept on globalThis, so that two copies of core in
 * one process share it).
 */
import type { EncodedValue } from './encoded-value';

/** What a producing actor's placement is told at start-up (from the driver's ActorSpec). */
export interface PlacementConfig {
  readonly runtimeId: string;
  /** The driver's pid (arena names carry it, so a later runtime can tell leftovers of a dead driver). */
  readonly driverPid: number;
  readonly actorId: string;
  /** The driver's host (ValuePlacement.host() there): a producer elsewhere does not place. */
  readonly driverHost: string;
  /** Print a warning (once per cause is the placement's job). */
  warn(message: string): void;
}

export interface ValuePlacement {
  /** Short name, e.g. 'shm'; descriptors carry it (PlacedAttachments.by). */
  readonly name: string;
  /** Module specifier or absolute path that actor processes `require` to register the same placement. */
  readonly module: string;
  /** Where this process can read placed values (e.g. boot id and /dev/shm device). */
  host(): string;
  /** Actor process: set up as a producer; called once, before any `place`. */
  configure(config: PlacementConfig): void;
  /** Actor process: whether `value` is worth placing (large enough); cheap, synchronous. */
  wants(value: EncodedValue): boolean;
  /**
   * Actor process: `value` with its attachments placed, or undefined when it stays as it is
   * (too small, another host, no room: placing must never fail a call; a failure is a warning).
   */
  place(value: EncodedValue): Promise<EncodedValue | undefined>;
  /**
   * Any process on the host: the attachments of a placed value, copied into memory that
   * `take(nbytes)` gives (so the caller chooses fresh or pooled memory).
   */
  read(value: EncodedValue, take: (nbytes: number) => Uint8Array): Promise<Uint8Array[]>;
  /** Driver: a runtime starts (e.g. remove what a killed driver left behind). */
  driverStarted(runtimeId: string): void;
  /** Driver: a placed value entered the object store. */
  stored(value: EncodedValue): void;
  /** Driver: the object store dropped a placed value: its memory may be reused. */
  released(value: EncodedValue): void;
  /** Driver: an actor died; its memory goes once none of its values is held. */
  producerDied(actorId: string): void;
  /** Driver: the runtime of `runtimeId` shut down: remove everything it placed. */
  shutdown(runtimeId: string): void;
}

const KEY = Symbol.for('tensorwire.value.placement');
const g = globalThis as unknown as { [KEY]?: ValuePlacement };

/**
 * Register the placement of this process (a later one replaces an earlier one). A package
 * calls this when imported.
 *
 * @example
 * ```ts
 * registerValuePlacement(shmPlacement); // in @tensorwire/shm-store's index
 * ```
 */
export function registerValuePlacement(p: ValuePlacement): void {
  g[KEY] = p;
}

/** The placement registered in this process, if any. */
export function registeredValuePlacement(): ValuePlacement | undefined {
  return g[KEY];
}

/** Forget the registered placement (tests). */
export function unregisterValuePlacement(): void {
  delete g[KEY];
}

/** The placement that wrote `value`, or an Error naming why it cannot be read here. */
function placementOf(value: EncodedValue): ValuePlacement {
  const p = registeredValuePlacement();
  const by = value.placed!.by;
  if (!p || p.name !== by) {
    throw new Error(`this value's bytes were placed by '${by}' (a shared-memory object store), which is not loaded in this process`);
  }
  return p;
}

/**
 * `value` with its bytes in `attachments` (read into memory from `take`), ready to decode;
 * values that carry their bytes come back as they are.
 */
export async function withAttachments(value: EncodedValue, take: (nbytes: number) => Uint8Array): Promise<EncodedValue> {
  if (!value.placed) return value;
  const attachments = await placementOf(value).read(value, take);
  return { skeleton: value.skeleton, attachments };
}

/** Fresh memory for {@link withAttachments} (not zero-filled: the read overwrites it all). */
export function freshBytes(nbytes: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(nbytes);
  return new Uint8Array(b.buffer, b.byteOffset, nbytes);
}
