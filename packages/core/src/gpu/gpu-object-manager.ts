/**
 * The driver side of GPU objects: decides how a consumer obtains an object (object store,
 * intra-actor hand-over, two-sided send/recv in a shared group, or one-sided read), orders
 * the producer's sends, tracks transfers in flight, and frees producers' tensors only when
 * no transfer needs them any more. It sees the driver only through GpuDriverPort.
 */
import { AmbiguousCollectiveGroupError, CollectiveGroupError, ObjectLostError, RuntimeStateError, TensorwireError, TransferError } from '../errors/errors';
import { toWireError } from '../errors/wire-error';
import type { EncodedValue } from '../objects/encoded-value';
import { ConnectionClosedError } from '../rpc/connection';
import { OBJECT_STORE } from '../transport/registry';
import { withTimeout } from './deadline';
import type { GpuDriverPort, GroupChoice, TransferRoute } from './driver-port';
import { pendingReads, type GpuEntry } from './gpu-entry';
import { gpuObjectInfo, type GpuResult, type ResolvedRef } from './gpu-object';
import { transferMode } from './transfer-mode';
import { checkInto } from './into';
import type { GetRequest } from './gpu-object';

/** The reader id of `get` in the driver itself. */
export const DRIVER_READER = 'driver';

/** Longest a free waits for a message to travel with. */
const FREE_BATCH_MS = 5;

export class GpuObjectManager {
  private tagSeq = 0;
  /** Frees waiting for the next message to their producer, and the timer that sends them otherwise. */
  private readonly pendingFrees = new Map<string, { ids: string[]; timer: NodeJS.Timeout }>();

  constructor(private readonly port: GpuDriverPort) {}

  /** Producer `producerId` reported `result` for `e`: the object is a GPU object from now on. */
  adopt(e: GpuEntry, result: GpuResult, producerId: string): void {
    e.gpu = gpuObjectInfo(e.id, result, producerId, this.port.actorName(producerId));
    e.inlineTensors = result.inline;
  }

  private errorRef(e: GpuEntry): ResolvedRef {
    if (e.state === 'freed') return { k: 'error', error: toWireError(new ObjectLostError(e.id, 'it was freed')) };
    return { k: 'error', error: toWireError(this.port.errorOf(e.id)) };
  }

  private producerGone(e: GpuEntry): ResolvedRef | undefined {
    if (this.port.aliveConn(e.gpu!.producerId)) return undefined;
    return {
      k: 'error',
      error: toWireError(new ObjectLostError(e.id, `its producer actor ${e.gpu!.producerName} died, and its tensors with it`)),
    };
  }

  /** The resolution of an entry that is failed, freed or an ordinary stored value; else undefined. */
  private unlessGpuObject(e: GpuEntry): ResolvedRef | undefined {
    if (e.state !== 'ready') return this.errorRef(e);
    if (e.gpu) return undefined;
    const value = this.port.storedValue(e.id);
    return value ? { k: 'value', value } : { k: 'error', error: toWireError(new ObjectLostError(e.id, 'not in the object store')) };
  }

  /**
   * How consumer actor `consumerId` obtains the value of a call argument. `named`: the group
   * the consuming call or method chose (else the producer's choice, else the one group the two
   * actors share).
   */
  async resolveForCall(e: GpuEntry, consumerId: string, named?: GroupChoice): Promise<ResolvedRef> {
    const notGpu = this.unlessGpuObject(e);
    if (notGpu) return notGpu;
    const gpu = e.gpu!;
    if (gpu.producerId === consumerId) {
      // Once per object, at info: the spec's own walkthrough does this, so it is no warning.
      if (e.sentTo.size > 0 && !e.mutableNoted) {
        e.mutableNoted = true;
        this.port.logger.info(
          `object ${e.id} goes back to its producer ${gpu.producerName}, which uses the very same (mutable) tensors; ` +
            `${[...e.sentTo].map((id) => this.port.actorName(id)).join(', ')} received a copy earlier ` +
            'and will not see changes the producer makes from now on',
        );
      }
      // The producer may change the tensors from now on: the inline copy no longer speaks for them.
      e.inlineTensors = undefined;
      return { k: 'gpu-local', gpu };
    }
    const gone = this.producerGone(e);
    if (gone) return gone;
    let route: TransferRoute | undefined;
    if (transferMode(gpu.transport) === 'two-sided') {
      // Checked even for inlined objects, so a missing group shows with small tensors too.
      try {
        route = this.port.route(gpu.transport, gpu.producerId, consumerId, named ?? this.producerChoice(e));
      } catch (err) {
        return { k: 'error', error: toWireError(err as CollectiveGroupError) };
      }
    }
    e.sentTo.add(consumerId);
    if (e.inlineTensors) return { k: 'gpu-data', gpu, tensors: e.inlineTensors };
    if (!route) return this.readBy(e, consumerId);
    return this.sendOver(e, route, consumerId);
  }

  /** The group the object's producing call, method or put named, if any. */
  private producerChoice(e: GpuEntry): GroupChoice | undefined {
    const group = e.gpu?.collectiveGroup;
    return group ? { group, by: `the call that made object ${e.id} (its collectiveGroup)` } : undefined;
  }

  /** Ask the producer to send `e` to `consumerId` over `route`; the consumer receives with the tag. */
  private sendOver(e: GpuEntry, route: TransferRoute, consumerId: string): ResolvedRef {
    const gpu = e.gpu!;
    const tag = ++this.tagSeq;
    const groupName = route.group;
    this.flushFrees(gpu.producerId);
    this.port.aliveConn(gpu.producerId)!
      .request('gpu.send', { objectId: e.id, group: groupName, dstRank: route.dstRank, tag })
      .catch((err: Error) => this.onSendFailed(groupName, e.id, gpu.producerName, this.port.actorName(consumerId), err));
    return { k: 'gpu-recv', gpu, group: groupName, srcRank: route.srcRank, tag, timeoutMs: this.port.transferTimeoutMs };
  }

  /**
   * How `get` (in the driver, or in actor `consumerId`) obtains the value: over a one-sided
   * transport unless told 'object-store'; over a collective group the actor shares with the
   * producer when it receives `into` given tensors (`overGroup`); otherwise a CPU copy from
   * the producer.
   */
  async resolveForGet(e: GpuEntry, options: GetRequest, consumerId: string | undefined): Promise<ResolvedRef> {
    const notGpu = this.unlessGpuObject(e);
    if (notGpu) return notGpu;
    const gpu = e.gpu!;
    if (options.intoMetas) {
      // Refused here, before a send is asked of the producer: a receive that never happens
      // would leave the send to time out and break the group.
      try {
        checkInto(e.id, gpu.metas, options.intoMetas);
      } catch (err) {
        return { k: 'error', error: toWireError(err) };
      }
    }
    if (gpu.producerId === consumerId) return { k: 'gpu-local', gpu };
    const gone = this.producerGone(e);
    if (gone) return gone;
    const want = options.tensorTransport ?? gpu.transport;
    if (e.inlineTensors && (want === OBJECT_STORE || want === gpu.transport)) return { k: 'gpu-data', gpu, tensors: e.inlineTensors };
    if (want !== OBJECT_STORE && want !== gpu.transport) {
      return {
        k: 'error',
        error: toWireError(new TransferError(`object ${e.id} was made with transport '${gpu.transport}'; get it with that transport or 'object-store', not '${want}'`)),
      };
    }
    if (transferMode(gpu.transport) === 'one-sided' && want !== OBJECT_STORE) return this.readBy(e, consumerId ?? DRIVER_READER);
    if (options.overGroup && consumerId && want !== OBJECT_STORE) {
      const named = options.collectiveGroup ? { group: options.collectiveGroup, by: 'get(ref, { collectiveGroup })' } : undefined;
      try {
        const route = this.port.route(gpu.transport, gpu.producerId, consumerId, named ?? this.producerChoice(e));
        e.sentTo.add(consumerId);
        return this.sendOver(e, route, consumerId);
      } catch (err) {
        // No common group (and none named): the object store path below serves, as for any get.
        if (named || !(err instanceof CollectiveGroupError) || err instanceof AmbiguousCollectiveGroupError) {
          return { k: 'error', error: toWireError(err) };
        }
      }
    }
    try {
      // Bounded like every transfer: a frozen producer must not make get wait forever.
      const fetched = this.port.aliveConn(gpu.producerId)!.request<EncodedValue>('gpu.fetch', { objectId: e.id });
      const tensors = await withTimeout(fetched, this.port.transferTimeoutMs, `fetch of ${e.id} through the object store`);
      return { k: 'gpu-data', gpu, tensors };
    } catch (err) {
      if (err instanceof ConnectionClosedError) {
        // The producer went away mid-fetch (it may not be marked dead yet): its tensors are gone.
        err = new ObjectLostError(e.id, `its producer actor ${gpu.producerName} died, and its tensors with it`);
      } else if (!(err instanceof TensorwireError)) {
        err = new TransferError(`fetching object ${e.id} from actor ${gpu.producerName} failed: ${(err as Error)?.message}`, { objectId: e.id }, { cause: err });
      }
      return { k: 'error', error: toWireError(err) };
    }
  }

  /**
   * Reader `readerId` reads `e` over its one-sided transport. A small object the producer
   * stored without a registration (it travels inline) is registered first, on the producer's
   * system lane; the read counts from before that, so a free meanwhile waits for it.
   */
  private async readBy(e: GpuEntry, readerId: string): Promise<ResolvedRef> {
    const gpu = e.gpu!;
    this.beginRead(e, readerId);
    if (gpu.descriptor === undefined) {
      if (!e.registering) {
        const registering = this.registerOnProducer(e);
        e.registering = registering;
        // A failed registration is not kept: a later consumer asks again.
        registering.catch(() => e.registering === registering && (e.registering = undefined));
      }
      try {
        await e.registering;
      } catch (err) {
        this.readDone(e.id, readerId);
        return { k: 'error', error: toWireError(err) };
      }
    }
    return { k: 'gpu-read', gpu, timeoutMs: this.port.transferTimeoutMs };
  }

  /** Ask the producer to register `e`'s tensors with its transport; the descriptor goes into `e.gpu`. */
  private async registerOnProducer(e: GpuEntry): Promise<void> {
    const gpu = e.gpu!;
    try {
      const conn = this.port.aliveConn(gpu.producerId);
      if (!conn) throw new ConnectionClosedError('producer gone');
      this.flushFrees(gpu.producerId);
      const registered = conn.request<unknown>('gpu.register', { objectId: e.id });
      gpu.descriptor = await withTimeout(registered, this.port.transferTimeoutMs, `registration of ${e.id} with ${gpu.transport} on ${gpu.producerName}`);
    } catch (err) {
      if (err instanceof ConnectionClosedError) {
        throw new ObjectLostError(e.id, `its producer actor ${gpu.producerName} died, and its tensors with it`);
      }
      if (err instanceof TensorwireError && !(err instanceof RuntimeStateError)) throw err;
      throw new TransferError(
        `registering object ${e.id} with ${gpu.transport} on actor ${gpu.producerName}, for a one-sided read, failed: ${(err as Error)?.message}`,
        { objectId: e.id, transport: gpu.transport, producer: gpu.producerName },
        { cause: err },
      );
    }
  }

  /** Reader `readerId` (an actor id, or DRIVER_READER) starts a one-sided read of `e`. */
  private beginRead(e: GpuEntry, readerId: string): void {
    e.reads.set(readerId, (e.reads.get(readerId) ?? 0) + 1);
  }

  /** A one-sided read of `objectId` by `readerId` finished (or failed). */
  readDone(objectId: string, readerId: string): void {
    const e = this.port.entry(objectId);
    const n = e?.reads.get(readerId);
    if (!e || !n) return;
    if (n > 1) e.reads.set(readerId, n - 1);
    else e.reads.delete(readerId);
    this.afterReads(e);
  }

  /** When the last read of `e` is over: the free it deferred happens now. */
  private afterReads(e: GpuEntry): void {
    if (pendingReads(e) > 0 || !e.freeDeferred) return;
    e.freeDeferred = false;
    this.dropOnProducer(e);
    if (e.refs <= 0) this.port.forget(e.id);
  }

  /** Free the producer's tensors now, or once the reads in flight are done. */
  free(e: GpuEntry): void {
    if (pendingReads(e) > 0) {
      e.freeDeferred = true;
      return;
    }
    this.dropOnProducer(e);
  }

  /**
   * Frees are batched per producer and sent with the next message to it (or within a few ms):
   * a socket write costs far more than the free itself, and frees are off the critical path.
   */
  private dropOnProducer(e: GpuEntry): void {
    if (!e.gpu) return;
    const producer = e.gpu.producerId;
    const batch = this.pendingFrees.get(producer);
    if (batch) {
      batch.ids.push(e.id);
      return;
    }
    const timer = setTimeout(() => this.flushFrees(producer), FREE_BATCH_MS).unref();
    this.pendingFrees.set(producer, { ids: [e.id], timer });
  }

  /** Send the frees queued for `producerId` now (called before any other message to it). */
  flushFrees(producerId: string): void {
    const ids = this.takeFrees(producerId);
    if (ids) this.port.aliveConn(producerId)?.notify('gpu.free', { ids });
  }

  /**
   * The frees queued for `producerId`, taken to travel inside the next message to it (a call
   * carries them as `frees`, applied before the call is queued): one message fewer to encode,
   * frame and dispatch on each side than a `gpu.free` of its own.
   */
  takeFrees(producerId: string): string[] | undefined {
    const batch = this.pendingFrees.get(producerId);
    if (!batch) return undefined;
    this.pendingFrees.delete(producerId);
    // Its timer goes too: left armed, each would wake the driver's event loop for nothing (one
    // wake-up per transfer when every free rides with the next call).
    clearTimeout(batch.timer);
    return batch.ids;
  }

  /**
   * Actor `actorId` died. As a producer its objects' reads are moot (its tensors are gone); as a
   * reader its reads will never report done: either way its counts are settled now, or a free
   * deferred for them would wait forever (and the producer would keep the tensors).
   */
  onActorDied(actorId: string): void {
    for (const e of [...this.port.entries()]) {
      if (e.gpu?.producerId === actorId) {
        e.reads.clear();
        e.freeDeferred = false;
        if (e.refs <= 0 && e.state === 'freed') this.port.forget(e.id);
      } else if (e.reads.delete(actorId)) {
        this.afterReads(e);
      }
    }
    this.takeFrees(actorId);
  }

  private onSendFailed(group: string, objectId: string, producer: string, consumer: string, err: Error): void {
    if (!this.port.groupActive(group)) return;
    const reason = `send of object ${objectId} from ${producer} to ${consumer} failed: ${err.message}`;
    this.port.logger.warn(`${reason}; destroying collective group '${group}'`);
    this.port.destroyGroup(group, reason);
  }
}
