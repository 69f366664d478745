/**
 * The shared-memory object store as core's ValuePlacement (see @tensorwire/core/spi): a
 * producing actor writes each large result once into its arena (arena.ts) and sends a small
 * descriptor; consumers on the host copy the bytes out of the mapped arena into memory they
 * choose (a call's receive pool); the driver marks blocks released when objects are freed and
 * removes arenas of dead producers and at shutdown (driver-book.ts). Copies of large values run
 * off the JavaScript thread. Any failure to place (no room, /dev/shm full) leaves the value
 * inline, with one warning per cause: a call never fails because of the store.
 */
import * as path from 'node:path';
import type { EncodedValue, PlacedAttachments, PlacementConfig, ValuePlacement } from '@tensorwire/core/spi';
import { Arena, type ArenaStats, type Block } from './arena';
import { BlockState, HEADER_BYTES, layout } from './block';
import { DriverBook } from './driver-book';
import { ShmReadError } from './errors';
import { hostKey } from './host';
import { Mappings } from './mappings';
import { loadNative, type ShmBinding } from './native';
import { chunkFile, storeDir } from './names';

/** A placed value's descriptor. */
export interface ShmPlaced extends PlacedAttachments {
  readonly by: 'shm';
  /** The arena chunk and the block's header offset in it. */
  readonly file: string;
  readonly header: number;
  /** Offset of each attachment in the chunk. */
  readonly offsets: readonly number[];
  /** The producing actor's id. */
  readonly producer: string;
}

/** Values whose attachments total at least this are placed: TENSORWIRE_SHM_STORE_MIN_BYTES, else 1 MiB. */
export function minPlacedBytes(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.TENSORWIRE_SHM_STORE_MIN_BYTES);
  return env.TENSORWIRE_SHM_STORE_MIN_BYTES && Number.isFinite(v) && v >= 0 ? v : 2 ** 20;
}

/** Bound of one producer's arena: TENSORWIRE_SHM_STORE_BYTES, else a quarter of the free space, at most 4 GiB. */
export function arenaBound(native: ShmBinding, env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.TENSORWIRE_SHM_STORE_BYTES);
  if (env.TENSORWIRE_SHM_STORE_BYTES && Number.isFinite(v) && v >= 0) return v;
  return Math.min(4 * 2 ** 30, Math.floor(native.available(storeDir()) / 4));
}

/** Copies below this run on the JS thread: a thread hop costs more than they do. */
const ASYNC_COPY_BYTES = 256 * 1024;

const total = (lengths: readonly number[]): number => lengths.reduce((a, b) => a + b, 0);

export class ShmPlacement implements ValuePlacement {
  readonly name = 'shm';
  readonly module = path.join(__dirname, 'index.js');
  private nativeBinding?: ShmBinding;
  private mappingsCache?: Mappings;
  private bookOf?: DriverBook;
  private arena?: Arena;
  private config?: PlacementConfig;
  private readonly warned = new Set<string>();
  private readonly minBytes = minPlacedBytes();

  private get native(): ShmBinding {
    return (this.nativeBinding ??= loadNative());
  }
  private get mappings(): Mappings {
    return (this.mappingsCache ??= new Mappings(this.native));
  }
  private get book(): DriverBook {
    return (this.bookOf ??= new DriverBook(this.native, this.mappings));
  }

  /** Throws ShmStoreUnavailableError when the addon is not usable here. */
  host(): string {
    void this.native;
    return hostKey();
  }

  configure(config: PlacementConfig): void {
    this.config = config;
    const native = this.native;
    if (config.driverHost !== hostKey()) return; // another host: results go inline, through the driver
    const fileOf = (n: number): string => chunkFile(storeDir(), config.driverPid, config.runtimeId, config.actorId, n);
    this.arena = new Arena(native, this.mappings, fileOf, arenaBound(native));
  }

  wants(value: EncodedValue): boolean {
    if (!this.arena || value.placed) return false;
    let n = 0;
    for (const a of value.attachments) n += a.byteLength;
    return n >= this.minBytes;
  }

  async place(value: EncodedValue): Promise<EncodedValue | undefined> {
    const arena = this.arena;
    if (!arena || !this.config) return undefined;
    const lengths = value.attachments.map((a) => a.byteLength);
    const { offsets, bytes } = layout(lengths);
    let block: Block | undefined;
    try {
      block = arena.allocate(bytes);
      if (!block) {
        this.warnOnce('full', `the shared-memory object store of this actor is full (${arena.maxBytes} bytes, TENSORWIRE_SHM_STORE_BYTES): ` +
          'large results go through the driver until objects are freed');
        return undefined;
      }
      const data = block.header + HEADER_BYTES;
      const at = offsets.map((o) => data + o);
      const sources = value.attachments as Uint8Array[];
      if (bytes >= ASYNC_COPY_BYTES) await this.native.copyIn(block.handle, at, sources);
      else this.native.copyInSync(block.handle, at, sources);
      const placed: ShmPlaced = {
        by: 'shm', host: hostKey(), lengths, file: block.file, header: block.header, offsets: at, producer: this.config.actorId,
      };
      return { skeleton: value.skeleton, attachments: [], placed };
    } catch (err) {
      if (block) arena.giveBack(block);
      const e = err as NodeJS.ErrnoException;
      this.warnOnce(e.code ?? 'error', `placing a result in shared memory failed (${e.message}); it goes through the driver` +
        (e.code === 'ENOSPC' ? ' (/dev/shm is full: free objects, or set TENSORWIRE_SHM_STORE_BYTES lower)' : ''));
      return undefined;
    }
  }

  async read(value: EncodedValue, take: (nbytes: number) => Uint8Array): Promise<Uint8Array[]> {
    const p = value.placed as ShmPlaced;
    let handle: number;
    try {
      handle = this.mappings.open(p.file);
    } catch (err) {
      throw new ShmReadError(
        `cannot read an object of actor ${p.producer} from shared memory: ${(err as Error).message} ` +
          '(its arena was removed: the object was freed, or the runtime shut down)',
        { cause: err },
      );
    }
    const targets = p.lengths.map((n) => take(n));
    if (total(p.lengths) >= ASYNC_COPY_BYTES) await this.native.copyOut(handle, [...p.offsets], targets);
    else this.native.copyOutSync(handle, [...p.offsets], targets);
    return targets;
  }

  stored(value: EncodedValue): void {
    this.book.stored((value.placed as ShmPlaced).producer);
  }

  released(value: EncodedValue): void {
    const p = value.placed as ShmPlaced;
    try {
      this.native.store32(this.mappings.open(p.file), p.header, BlockState.Released);
    } catch {
      // the arena is gone already (its producer died and was cleaned up): nothing to give back
    }
    this.book.released(p.producer);
  }

  producerDied(actorId: string): void {
    this.book.producerDied(actorId);
  }

  driverStarted(): void {
    DriverBook.removeOrphans(this.native);
  }

  shutdown(runtimeId: string): void {
    this.book.shutdown(runtimeId);
  }

  /** This actor's arena (undefined where it places nothing: the driver, another host). */
  arenaStats(): ArenaStats | undefined {
    return this.arena?.stats();
  }

  /** Values of `producer` the driver's store holds (driver only). */
  heldBy(producer: string): number {
    return this.book.heldBy(producer);
  }

  private warnOnce(cause: string, message: string): void {
    if (this.warned.has(cause)) return;
    this.warned.add(cause);
    if (this.config) this.config.warn(message);
    else process.emitWarning(message);
  }
}
