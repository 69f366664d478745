/**
 * The API context inside an actor process: calls, gets and puts made by actor code go to the
 * driver, which owns every object and ref.
 */
import { GetTimeoutError } from '../errors/errors';
import { toWireError } from '../errors/wire-error';
import { extractTensors } from '../objects/codec';
import { ObjectRef } from '../objects/object-ref';
import type { Serializer } from '../objects/serializer';
import { encodeHooks } from '../actor/value-hooks';
import type { Connection } from '../rpc/connection';
import type { SubmitMessage } from '../runtime/protocol';
import type { ResolvedRef } from '../gpu/gpu-object';
import type { CallOptions, CoreContext, GetOptions, GetRequest, PutOptions } from '../runtime/context';
import { intoMetas, intoTensors } from '../gpu/into';
import type { Tensor } from '../tensor/tensor';
import { OBJECT_STORE } from '../transport/registry';
import { validateTransportName } from '../transport/transport-names';
import { checkGroupName } from '../runtime/validate';
import type { ActorInfo } from '../runtime/actor-info';
import type { GpuResults } from '../gpu/gpu-results';
import type { ValuePlacing } from './value-placing';

export class WorkerContext implements CoreContext {
  readonly kind = 'worker' as const;
  private seq = 0;

  constructor(
    private readonly actorId: string,
    private readonly conn: Connection,
    private readonly serializer: Serializer,
    private readonly gpu: GpuResults,
    private readonly materializeAll: (resolved: ResolvedRef[], into?: Tensor[]) => Promise<unknown[]>,
    private readonly placing?: ValuePlacing,
  ) {}

  private newId(kind: string): string {
    return `${this.actorId}.${kind}${++this.seq}`;
  }

  submit(target: ActorInfo, method: string, args: unknown[], options: CallOptions): ObjectRef<unknown> {
    const refIds = new Set<string>();
    const keptIds = new Set<string>();
    const encoded = this.serializer.encode(args, encodeHooks(refIds, keptIds));
    const objectId = this.newId('t');
    // The ref is made first: its ref.add announces the id, so the driver counts it before the
    // submit can settle (and collect) the object.
    const ref = new ObjectRef(objectId);
    const msg: SubmitMessage = {
      objectId, target, method, args: encoded, refIds: [...refIds], ...(keptIds.size ? { keptIds: [...keptIds] } : {}), options: { ...options },
    };
    this.conn.notify('submit', msg);
    return ref;
  }

  async get(ids: readonly string[], options: GetOptions): Promise<unknown[]> {
    // The into tensors stay here: the driver gets their dtypes and shapes, to refuse a mismatch
    // before any transfer, and is asked to use a group this actor shares with the producer.
    const { into: intoValue, ...rest } = options;
    const into = intoValue === undefined ? undefined : intoTensors(intoValue);
    const request: GetRequest = into ? { ...rest, overGroup: true, intoMetas: intoMetas(into) } : rest;
    const resolved = await this.conn.request<ResolvedRef[] | { timeout: number }>('get', { ids, options: request });
    if (!Array.isArray(resolved)) throw new GetTimeoutError(options.timeoutMs ?? 0, resolved.timeout);
    return this.materializeAll(resolved, into);
  }

  put(value: unknown, options: PutOptions): ObjectRef<unknown> {
    const objectId = this.newId('p');
    const transport = options.tensorTransport;
    validateTransportName(transport, 'put()');
    checkGroupName(options.collectiveGroup, 'put()');
    if (transport && transport !== OBJECT_STORE) {
      // Any transport: one-sided ones register the tensors for readers; with a two-sided one the
      // object stays here like a method's GPU result and is sent over the collective group a
      // consumer shares with this actor (get in the driver fetches a copy through the object store).
      const { skeleton, tensors } = extractTensors(value);
      if (tensors.length > 0) {
        const refIds = new Set<string>();
        // The ref announces the id to the driver (ref.add) before the registration is done.
        const ref = new ObjectRef(objectId);
        const ready = this.gpu.store(objectId, skeleton, tensors, transport, 0, refIds);
        ready.then(
          (gpu) => {
            if (options.collectiveGroup) gpu.collectiveGroup = options.collectiveGroup;
            this.conn.notify('put', { objectId, gpu, refIds: [...refIds] });
          },
          (err: Error) => this.conn.notify('put', { objectId, error: toWireError(err) }),
        );
        return ref;
      }
    }
    const refIds = new Set<string>();
    const encoded = this.serializer.encode(value, encodeHooks(refIds));
    const ref = new ObjectRef(objectId); // announces the id before the put (see submit)
    if (this.placing?.wants(encoded)) {
      // A large value goes into shared memory first (off this thread); the driver holds the
      // announced id pending until the put arrives.
      this.placing.place(encoded).then(
        (value) => this.conn.notify('put', { objectId, value, refIds: [...refIds] }),
        (err: Error) => this.conn.notify('put', { objectId, error: toWireError(err) }),
      );
      return ref;
    }
    this.conn.notify('put', { objectId, value: encoded, refIds: [...refIds] });
    return ref;
  }

  async wait(ids: readonly string[], numReturns: number, timeoutMs: number | undefined): Promise<string[]> {
    return this.conn.request<string[]>('wait', { ids, numReturns, timeoutMs });
  }

  async free(ids: readonly string[]): Promise<void> {
    await this.conn.request('free', { ids });
  }

  async kill(actorId: string): Promise<void> {
    await this.conn.request('kill', { actorId });
  }

  refAdded(id: string): void {
    this.conn.notify('ref.add', { id });
  }

  refCollected(id: string): void {
    this.conn.notify('ref.release', { id });
  }
}

