/**
 * A producer's arena: chunks of shared memory (files in /dev/shm, each mapped once here), cut
 * into blocks by size class and recycled. A block is taken for each placed value and comes
 * back when the driver marks it released (block.ts): the next value of a similar size reuses
 * it, so its pages stay mapped and warm in this process and in every reader that met it.
 * Growth stops at a byte bound; past it `allocate` says no and the value goes inline.
 */
import { sizeClass } from '@tensorwire/core/spi';
import { alignUp, BlockState, HEADER_BYTES } from './block';
import type { Mappings } from './mappings';
import type { ShmBinding } from './native';

/** Smallest chunk: big values get a chunk of their own size (rounded to 2 MiB). */
export const MIN_CHUNK_BYTES = 64 * 2 ** 20;

/** How long a producer waits after a chunk could not be made before trying again. */
export const CHUNK_RETRY_MS = 5000;

export interface Block {
  readonly file: string;
  readonly handle: number;
  /** Offset of the header in the chunk; the data follows it. */
  readonly header: number;
  readonly capacity: number;
}

export interface ArenaStats {
  /** Bytes of chunks made (files in /dev/shm). */
  chunkBytes: number;
  chunks: number;
  /** Blocks holding a value the driver has not released. */
  blocksHeld: number;
  /** Blocks ready for reuse. */
  blocksFree: number;
  /** Allocations served by a recycled block, and those that cut a new one. */
  reused: number;
  cut: number;
}

interface Chunk {
  file: string;
  handle: number;
  size: number;
  used: number;
}

export class Arena {
  private readonly chunks: Chunk[] = [];
  private readonly free = new Map<number, Block[]>();
  private readonly held = new Set<Block>();
  private chunkBytes = 0;
  /** After a chunk could not be made (/dev/shm full), no new one is tried before this time. */
  private retryChunksAt = 0;
  private reused = 0;
  private cut = 0;

  constructor(
    private readonly native: ShmBinding,
    private readonly mappings: Mappings,
    /** The file of chunk number n. */
    private readonly fileOf: (n: number) => string,
    /** Bytes all chunks together may take. */
    readonly maxBytes: number,
  ) {}

  /**
   * A block for `nbytes` of data, marked held, or undefined when the bound is reached. Throws
   * (errno `code`, e.g. ENOSPC) when a new chunk cannot be made.
   */
  allocate(nbytes: number): Block | undefined {
    this.reclaim();
    const capacity = sizeClass(Math.max(nbytes, 1));
    let b = this.free.get(capacity)?.pop();
    if (b) this.reused++;
    else b = this.cutBlock(capacity);
    if (!b) return undefined;
    this.native.store32(b.handle, b.header, BlockState.Held);
    this.held.add(b);
    return b;
  }

  /** Give a block back at once (its value was never sent). */
  giveBack(b: Block): void {
    if (!this.held.delete(b)) return;
    this.native.store32(b.handle, b.header, BlockState.Released);
    this.pushFree(b);
  }

  stats(): ArenaStats {
    this.reclaim();
    let blocksFree = 0;
    for (const l of this.free.values()) blocksFree += l.length;
    return { chunkBytes: this.chunkBytes, chunks: this.chunks.length, blocksHeld: this.held.size, blocksFree, reused: this.reused, cut: this.cut };
  }

  /** Blocks the driver released become free. */
  private reclaim(): void {
    for (const b of this.held) {
      if (this.native.load32(b.handle, b.header) === BlockState.Released) {
        this.held.delete(b);
        this.pushFree(b);
      }
    }
  }

  private pushFree(b: Block): void {
    let l = this.free.get(b.capacity);
    if (!l) this.free.set(b.capacity, (l = []));
    l.push(b);
  }

  private cutBlock(capacity: number): Block | undefined {
    const need = HEADER_BYTES + alignUp(capacity);
    let c = this.chunks.find((x) => x.size - x.used >= need);
    if (!c) {
      let size = Math.max(MIN_CHUNK_BYTES, alignUp(need, 2 * 2 ** 20));
      if (this.chunkBytes + size > this.maxBytes) size = alignUp(need, 2 * 2 ** 20);
      if (this.chunkBytes + size > this.maxBytes || Date.now() < this.retryChunksAt) return undefined;
      const file = this.fileOf(this.chunks.length);
      let handle: number;
      try {
        handle = this.mappings.create(file, size);
      } catch (err) {
        // Reserving a chunk costs as much as filling it: do not retry on every value.
        this.retryChunksAt = Date.now() + CHUNK_RETRY_MS;
        throw err;
      }
      c = { file, handle, size, used: 0 };
      this.chunks.push(c);
      this.chunkBytes += size;
    }
    const b: Block = { file: c.file, handle: c.handle, header: c.used, capacity };
    c.used += need;
    this.cut++;
    return b;
  }
}
