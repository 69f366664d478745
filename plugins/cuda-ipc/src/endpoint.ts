/**
 * The per-process cuda-ipc endpoint: registers this process's CUDA tensors for other processes
 * of the host (exporter.ts) and reads theirs (reader.ts).
 */
import type { OneSidedEndpoint, RemoteDescriptor, TransportTensor } from '@tensorwire/core';
import { asDescriptor, type CudaIpcDescriptor } from './descriptor';
import { CudaIpcError, toCudaIpcError } from './errors';
import { Exporter } from './exporter';
import { resolveOptions, type ResolvedOptions } from './options';
import { Reader } from './reader';

/** What an endpoint holds and has done (`endpoint.stats()`), for tests and diagnostics. */
export interface CudaIpcStats {
  /** Producer side: live registrations, allocations exported for them, interprocess events. */
  readonly registrations: number;
  readonly exportedAllocations: number;
  readonly events: number;
  /** Consumer side: other processes' allocations open now, and the handle cache's counters. */
  readonly open: number;
  readonly opens: number;
  readonly hits: number;
  readonly evictions: number;
  /** Closed because the registrations they were read for were released. */
  readonly released: number;
  readonly closes: number;
  /** Producers with something open here. */
  readonly producers: number;
  readonly reads: number;
  readonly timeouts: number;
  /** Reads across two devices: peer to peer, or through host memory. */
  readonly peerCopies: number;
  readonly hostCopies: number;
  /** Streams given up after a read left copies on them (timeout, dead producer, close). */
  readonly retiredStreams: number;
}

/** A cuda-ipc endpoint: the one-sided endpoint of the SPI (register, read, release). */
export class CudaIpcEndpoint implements OneSidedEndpoint {
  readonly kind = 'one-sided' as const;
  readonly options: ResolvedOptions;
  private readonly exporter: Exporter;
  private readonly reader: Reader;
  private closed = false;

  constructor(readonly name: string, options: Readonly<Record<string, unknown>> = {}) {
    this.options = resolveOptions(options);
    this.exporter = new Exporter(name);
    this.reader = new Reader(this.options);
  }

  /** Registers CUDA tensors for reads by other processes of this host (no copy: reads see them as they are then). */
  async register(tensors: readonly TransportTensor[]): Promise<CudaIpcDescriptor> {
    this.checkOpen();
    return this.exporter.register(tensors);
  }

  /**
   * Reads the tensors `desc` describes into `into` (CUDA tensors of the same count and sizes).
   * Rejects with CUDA_IPC_TIMEOUT after `timeoutMs`, CUDA_IPC_PRODUCER_LOST when the producer
   * died, CUDA_IPC_REGISTRATION_RELEASED after the producer released it, an INVALID code for a
   * descriptor of another transport or host, or destinations that do not match.
   */
  async read(desc: RemoteDescriptor, into: readonly TransportTensor[], timeoutMs: number): Promise<void> {
    this.checkOpen();
    try {
      await this.reader.read(asDescriptor(desc), into, timeoutMs, (id) => this.exporter.localTensors(id));
    } catch (e) {
      throw toCudaIpcError(e, 'read');
    }
  }

  /** Drops the registration that returned `desc` (reads of it fail from now on). Idempotent. */
  async release(desc: RemoteDescriptor): Promise<void> {
    this.exporter.release(asDescriptor(desc).id);
  }

  stats(): CudaIpcStats {
    return { ...this.exporter.stats(), ...this.reader.stats() };
  }

  /**
   * Fails the reads waiting (CLOSED), drops every registration, closes other processes'
   * allocations (those still being copied: when their copies end). Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reader.close(this.name);
    this.exporter.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new CudaIpcError('CUDA_IPC_CLOSED', `the cuda-ipc endpoint '${this.name}' is closed`);
  }
}
