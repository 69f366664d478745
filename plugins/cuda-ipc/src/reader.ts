/**
 * The consumer side: reads of other processes' registered CUDA tensors into this process's.
 *
 * A read checks the descriptor (same host, producer alive, registration not released, sizes),
 * finds the producer's devices here by identity (a device index means nothing under another
 * CUDA_VISIBLE_DEVICES), opens the allocations (cached, see handle-cache.ts) and the producer's
 * event, and copies on a stream of this transport per device, off the JavaScript thread: the
 * copy waits on the GPU for the producer's event, then moves the bytes device to device (across
 * devices: peer to peer where they can access each other, through host memory otherwise).
 *
 * Deadlines: when `timeoutMs` passes (or the producer dies, or the endpoint closes) before the
 * copies end, the read fails at once, but the copies may still be queued on the GPU and write
 * the receive tensors later. So the receive tensors' blocks stay held (no new tensor gets them,
 * whether or not their tensors are dropped or released) and the opened allocations stay open
 * until those copies end; the streams they were queued on are retired, and later reads use new
 * ones. The caller must not read the receive tensors of a failed read.
 */
import type { TransportTensor } from '@tensorwire/core';
import { copyBetweenDevices, deviceWithIdentity, holdBuffer, Stream, type DevicePointer, type Event } from '@tensorwire/cuda/internal';
import type { CudaIpcDescriptor } from './descriptor';
import { CudaIpcError, toCudaIpcError } from './errors';
import { cudaIndexOf } from './exporter';
import { HandleCache, type HandleCacheStats, type OpenedAllocation } from './handle-cache';
import { isRunning, onThisHost, selfIdentity } from './host-identity';
import type { ResolvedOptions } from './options';
import { RemoteProducers, type RemoteProducer } from './remote-producers';

/** Deadline used when a read gets no usable timeout (non-finite or <= 0). */
const NO_DEADLINE_MS = 2 ** 31 - 1;

/**
 * Opens one of a live registration's IPC handles: a failure while the producer runs means the
 * handle is not one the producer made (a forged or corrupted descriptor): INVALID.
 */
function opening<T>(producer: RemoteProducer, what: string, open: () => T): T {
  try {
    return open();
  } catch (e) {
    if (!isRunning(producer.identity)) throw e; // asProducer makes it PEER_LOST
    throw new CudaIpcError(
      'CUDA_IPC_BAD_HANDLE',
      `cuda-ipc read: ${what} of ${producer.name} (pid ${producer.identity.pid}) cannot be opened: ${(e as Error).message}; the descriptor's IPC handle is not one its producer made`,
      { cause: e },
    );
  }
}

/** One copy of a read: where from, where to. */
interface Copy {
  readonly dst: DevicePointer;
  readonly src: DevicePointer;
  readonly nbytes: number;
  readonly after: readonly Event[];
}

export class Reader {
  private readonly handles: HandleCache;
  private readonly producers: RemoteProducers;
  private readonly streams = new Map<number, Stream>();
  /** Rejecters of the reads waiting now (close() fails them). */
  private readonly waiting = new Set<(err: CudaIpcError) => void>();
  private readonly counts = { reads: 0, timeouts: 0, peerCopies: 0, hostCopies: 0, retiredStreams: 0 };

  constructor(private readonly options: ResolvedOptions) {
    this.handles = new HandleCache(options.handleCacheSize, options.idleCloseMs);
    this.producers = new RemoteProducers(this.handles, options.livenessIntervalMs);
  }

  /**
   * Reads `d` into `into`. `local` gives the tensors of a registration made in this very process
   * (which cannot open its own IPC handles).
   */
  async read(
    d: CudaIpcDescriptor, into: readonly TransportTensor[], timeoutMs: number, local: (id: string) => readonly TransportTensor[] | undefined,
  ): Promise<void> {
    if (into.length !== d.regions.length) {
      throw new CudaIpcError('CUDA_IPC_SIZE_MISMATCH', `cuda-ipc read: the descriptor has ${d.regions.length} tensor(s), got ${into.length} destination(s)`);
    }
    const dsts = into.map((t, i) => {
      const device = cudaIndexOf(t, `destination ${i}`);
      if (t.nbytes !== d.regions[i].nbytes) {
        throw new CudaIpcError('CUDA_IPC_SIZE_MISMATCH', `cuda-ipc read: tensor ${i} has ${d.regions[i].nbytes} bytes, destination ${i} has ${t.nbytes}`);
      }
      return { device, ptr: t.devicePtr! };
    });
    if (!onThisHost(d.producer)) {
      throw new CudaIpcError(
        'CUDA_IPC_OTHER_HOST',
        `cuda-ipc read: the producer ${d.name} (pid ${d.producer.pid}) runs on another host (or in another PID namespace); ` +
          'cuda-ipc moves tensors between processes of one host. Fix: use a transport that crosses hosts (nixl, nccl) for this object, or place both actors on one host',
      );
    }
    this.counts.reads++;
    const self = selfIdentity();
    const producer = d.producer.pid === self.pid && d.producer.start === self.start ? undefined : this.producers.get(d.producer, d.name);
    const pinned: OpenedAllocation[] = [];
    const unholds: (() => void)[] = [];
    const hold = (ts: readonly TransportTensor[]) => {
      for (const t of ts) if (t.deviceBuffer && t.nbytes > 0) unholds.push(holdBuffer(t.deviceBuffer));
    };
    const done = () => {
      for (const a of pinned) this.handles.unpin(a);
      for (const u of unholds) u();
    };
    hold(into);
    let copies: Copy[];
    try {
      copies = producer ? this.prepare(d, dsts, producer, pinned) : this.prepareLocal(d, dsts, local(d.id), hold);
    } catch (e) {
      done();
      throw e;
    }
    const copying = Promise.all(copies.map((c) => this.copy(c)));
    // Pins and holds go when the copies end, even after the read gave up on them.
    copying.then(done, done);
    await this.bounded(copying, timeoutMs, d, producer, copies);
  }

  /** Opened allocations (`open`), and counters of reads. */
  stats(): HandleCacheStats & { producers: number; reads: number; timeouts: number; peerCopies: number; hostCopies: number; retiredStreams: number } {
    return { ...this.handles.stats(), producers: this.producers.size, ...this.counts };
  }

  /** Fails the reads waiting now (CLOSED) and closes what is open (allocations in use: when their copies end). */
  close(name: string): void {
    for (const reject of [...this.waiting]) reject(new CudaIpcError('CUDA_IPC_CLOSED', `cuda-ipc read: the endpoint '${name}' was closed during the read`));
    this.producers.close();
    for (const s of this.streams.values()) s.destroy();
    this.streams.clear();
  }

  /** Checks the registration, opens what the copies need (pinning the allocations in `pinned`). */
  private prepare(d: CudaIpcDescriptor, dsts: readonly DevicePointer[], producer: RemoteProducer, pinned: OpenedAllocation[]): Copy[] {
    return this.asProducer(producer, () => {
      producer.checkRegistered(d.table, d.id);
      const devices = d.devices.map((dev) => deviceWithIdentity(dev.id));
      const waits = new Map<number, Event[]>();
      const copies: Copy[] = [];
      for (const [i, r] of d.regions.entries()) {
        if (r.nbytes === 0) continue;
        const device = devices[r.device];
        if (device < 0) {
          throw new CudaIpcError(
            'CUDA_IPC_DEVICE_NOT_VISIBLE',
            `cuda-ipc read: tensor ${i} lies on a GPU this process does not see (PCI ${d.devices[r.device].id}; CUDA_VISIBLE_DEVICES=${process.env.CUDA_VISIBLE_DEVICES ?? '(unset)'}). ` +
              "CUDA IPC needs the producer's GPU visible to the consumer. Fix: give the consumer that GPU too (spawn it with numGpus covering it, or without CUDA_VISIBLE_DEVICES), or use a transport that goes through the network (nccl, nixl)",
          );
        }
        let after = waits.get(r.device);
        if (!after) {
          const event = opening(producer, `the event of device ${d.devices[r.device].id}`, () => producer.event(device, d.devices[r.device].event));
          // Usually the producer's work ended long ago: then the copy need not wait on the GPU.
          after = event.query() ? [] : [event];
          waits.set(r.device, after);
        }
        const a = opening(producer, `the allocation of tensor ${i}`, () => this.handles.pin(producer.key, r.handle, device, d.table));
        pinned.push(a);
        copies.push({ dst: dsts[i], src: { device, ptr: a.base + BigInt(r.offset) }, nbytes: r.nbytes, after });
      }
      return copies;
    });
  }

  private async copy(c: Copy): Promise<void> {
    const route = await copyBetweenDevices(c.dst, c.src, c.nbytes, {
      stream: this.stream(c.dst.device),
      sourceStream: this.stream(c.src.device),
      after: c.after,
      chunkBytes: this.options.stagingChunkBytes,
    });
    if (route === 'peer') this.counts.peerCopies++;
    else if (route === 'host') this.counts.hostCopies++;
  }

  /** Waits for `copying` within the deadline, while the producer runs and the endpoint is open. */
  private bounded(copying: Promise<unknown>, timeoutMs: number, d: CudaIpcDescriptor, producer: RemoteProducer | undefined, copies: readonly Copy[]): Promise<void> {
    const ms = Number.isFinite(timeoutMs) && timeoutMs > 0 ? Math.min(timeoutMs, NO_DEADLINE_MS) : NO_DEADLINE_MS;
    return new Promise<void>((resolve, reject) => {
      let over = false;
      const finish = (err?: Error) => {
        if (over) return;
        over = true;
        clearTimeout(deadline);
        clearInterval(watch);
        this.waiting.delete(abandon);
        if (err === undefined) return resolve();
        reject(err);
      };
      /** The read gives up while its copies may still run: their streams are not used again. */
      const abandon = (err: CudaIpcError) => {
        if (over) return;
        for (const c of copies) this.retire(c.dst.device, c.src.device);
        finish(err);
      };
      const deadline = setTimeout(() => {
        this.counts.timeouts++;
        abandon(new CudaIpcError(
          'CUDA_IPC_TIMEOUT',
          `cuda-ipc read of ${d.id} from ${d.name}: not done after ${ms} ms (the receive tensors stay reserved until the copy ends; do not use them)`,
        ));
      }, ms);
      const watch = setInterval(() => {
        if (!producer || isRunning(producer.identity)) return;
        this.producers.forget(producer);
        abandon(producer.lost('died during the read'));
      }, this.options.livenessIntervalMs);
      this.waiting.add(abandon);
      copying.then(
        () => finish(),
        (e) => {
          if (producer && !isRunning(producer.identity)) {
            this.producers.forget(producer);
            finish(producer.lost('died during the read'));
          } else finish(toCudaIpcError(e, `read of ${d.id} from ${d.name}`));
        },
      );
    });
  }

  /**
   * The copies of a read of a registration made in this very process (which cannot open its own
   * IPC handles): from its tensors, held for the copy like the receive tensors.
   */
  private prepareLocal(
    d: CudaIpcDescriptor, dsts: readonly DevicePointer[], tensors: readonly TransportTensor[] | undefined, hold: (ts: readonly TransportTensor[]) => void,
  ): Copy[] {
    if (!tensors) throw new CudaIpcError('CUDA_IPC_REGISTRATION_RELEASED', `cuda-ipc: registration ${d.id} of this process was released`);
    hold(tensors);
    return tensors.flatMap((t, i) =>
      t.nbytes === 0 ? [] : [{ dst: dsts[i], src: { device: cudaIndexOf(t, `tensor ${i}`), ptr: t.devicePtr! }, nbytes: t.nbytes, after: [] }],
    );
  }

  /** Runs `f`; a failure while the producer no longer runs is PEER_LOST (and its state goes). */
  private asProducer<T>(producer: RemoteProducer, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof CudaIpcError && e.kind !== 'INTERNAL') {
        if (e.kind === 'PEER_LOST') this.producers.forget(producer);
        throw e;
      }
      if (!isRunning(producer.identity)) {
        this.producers.forget(producer);
        throw producer.lost('has exited');
      }
      throw toCudaIpcError(e, 'read');
    }
  }

  private stream(device: number): Stream {
    let s = this.streams.get(device);
    if (!s) {
      s = new Stream(device);
      this.streams.set(device, s);
    }
    return s;
  }

  /** The streams of `devices` may hold copies that never end: later reads get new ones. */
  private retire(...devices: number[]): void {
    for (const device of devices) {
      const s = this.streams.get(device);
      if (!s) continue;
      this.streams.delete(device);
      s.destroy(); // the CUDA stream goes once its queued work has run
      this.counts.retiredStreams++;
    }
  }
}
