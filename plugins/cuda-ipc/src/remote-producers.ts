/**
 * What a consumer keeps per producer process: its registration table (opened once), the
 * interprocess events it opened (one per producer device), and whether it still runs. A timer
 * checks, while anything of a producer is kept here or in the handle cache, that it runs; a dead
 * producer's table, events and opened allocations are closed at once (a consumer must not keep
 * a dead process's memory mapped, nor its descriptors open).
 */
import { Event } from '@tensorwire/cuda/internal';
import { producerKey } from './descriptor';
import { CudaIpcError } from './errors';
import type { HandleCache } from './handle-cache';
import { isRunning, type ProcessIdentity } from './host-identity';
import { RemoteTable, type TableSlot } from './registration-table';

export class RemoteProducer {
  readonly key: string;
  private table: RemoteTable | undefined;
  private readonly events = new Map<string, Event>();

  constructor(
    readonly identity: ProcessIdentity,
    readonly name: string,
  ) {
    this.key = producerKey(identity);
  }

  /** A PEER_LOST error naming the producer. */
  lost(what: string): CudaIpcError {
    return new CudaIpcError(
      'CUDA_IPC_PRODUCER_LOST',
      `cuda-ipc: the producer ${this.name} (pid ${this.identity.pid}) ${what}; its registered tensors are gone with it`,
    );
  }

  /**
   * Throws PEER_LOST when the producer no longer runs, INVALID (CUDA_IPC_REGISTRATION_RELEASED)
   * when the registration of `slot` was released.
   */
  checkRegistered(slot: TableSlot, id: string): void {
    if (!isRunning(this.identity)) throw this.lost('has exited');
    this.table ??= RemoteTable.open(this.identity.pid, slot);
    if (!this.table) {
      throw isRunning(this.identity) ? this.lost('closed its cuda-ipc endpoint') : this.lost('has exited');
    }
    if (!this.table.live(slot)) {
      throw new CudaIpcError(
        'CUDA_IPC_REGISTRATION_RELEASED',
        `cuda-ipc: registration ${id} of ${this.name} was released; its memory may hold other tensors now (read GPU objects while a ref to them lives)`,
      );
    }
  }

  /** Whether registration `slot` is still live; undefined when the table cannot be read. */
  isLive(slot: TableSlot): boolean | undefined {
    try {
      return this.table?.live(slot);
    } catch {
      return undefined;
    }
  }

  /** The producer's interprocess event on `device` (its index here), opened once. */
  event(device: number, handle: string): Event {
    const key = `${device}/${handle}`;
    let e = this.events.get(key);
    if (!e) {
      e = Event.fromIpcHandle(device, Buffer.from(handle, 'base64'));
      this.events.set(key, e);
    }
    return e;
  }

  close(): void {
    this.table?.close();
    this.table = undefined;
    for (const e of this.events.values()) e.destroy();
    this.events.clear();
  }
}

/** The producers a consumer reads from, and the timer that forgets the dead ones. */
export class RemoteProducers {
  private readonly byKey = new Map<string, RemoteProducer>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly handles: HandleCache,
    private readonly intervalMs: number,
  ) {}

  get(identity: ProcessIdentity, name: string): RemoteProducer {
    const key = producerKey(identity);
    let p = this.byKey.get(key);
    if (!p) {
      p = new RemoteProducer(identity, name);
      this.byKey.set(key, p);
      this.watch();
    }
    return p;
  }

  /** Closes everything of `producer` (found dead). */
  forget(producer: RemoteProducer): void {
    this.byKey.delete(producer.key);
    producer.close();
    this.handles.dropProducer(producer.key);
  }

  /**
   * Closes the dead producers' tables, events and allocations, and the allocations whose
   * registrations were all released (see handle-cache.ts).
   */
  sweep(): void {
    for (const p of [...this.byKey.values()]) if (!isRunning(p.identity)) this.forget(p);
    this.handles.sweep((producer, slot) => this.byKey.get(producer)?.isLive(slot));
    if (this.byKey.size === 0 && this.handles.producers().size === 0) this.unwatch();
  }

  /** Number of producers with something kept here. */
  get size(): number {
    return this.byKey.size;
  }

  close(): void {
    this.unwatch();
    for (const p of this.byKey.values()) p.close();
    this.byKey.clear();
    this.handles.dropAll();
  }

  private watch(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sweep(), this.intervalMs);
    this.timer.unref(); // never keeps a process alive
  }

  private unwatch(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
