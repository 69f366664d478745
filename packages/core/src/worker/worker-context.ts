/**
 * The API context inside an actor process: calls, gets and puts made by actor code go to the
 * driver, which owns every object and ref.
 */
import { GetTimeoutError, InvalidArgumentError } from '../errors/errors';
import { toWireError } from '../errors/wire-error';
import { extractTensors } from '../objects/codec';
import { ObjectRef } from '../objects/object-ref';
import type { Serializer } from '../objects/serializer';
import { encodeHooks } from '../actor/value-hooks';
import type { Connection } from '../rpc/connection';
import type { SubmitMessage } from '../runtime/protocol';
import type { ResolvedRef } from '../gpu/gpu-object';
import type { CallOptions, CoreContext, GetOptions, PutOptions } from '../runtime/context';
import { OBJECT_STORE } from '../transport/registry';
import { transferMode } from '../gpu/transfer-mode';
import type { ActorInfo } from '../runtime/actor-info';
import type { GpuResults } from '../gpu/gpu-results';

export class WorkerContext implements CoreContext {
  readonly kind = 'worker' as const;
  private seq = 0;

  constructor(
    private readonly actorId: string,
    private readonly conn: Connection,
    private readonly serializer: Serializer,
    private readonly gpu: GpuResults,
    private readonly materializeAll: (resolved: ResolvedRef[]) => Promise<unknown[]>,
  ) {}

  private newId(kind: string): string {
    return `${this.actorId}.${kind}${++this.seq}`;
  }

  submit(target: ActorInfo, method: string, args: unknown[], options: CallOptions): ObjectRef<unknown> {
    const refIds = new Set<string>();
    const encoded = this.serializer.encode(args, encodeHooks(refIds));
    const objectId = this.newId('t');
    // The ref is made first: its ref.add announces the id, so the driver counts it before the
    // submit can settle (and collect) the object.
    const ref = new ObjectRef(objectId);
    const msg: SubmitMessage = { objectId, target, method, args: encoded, refIds: [...refIds], options: { ...options } };
    this.conn.notify('submit', msg);
    return ref;
  }

  async get(ids: readonly string[], options: GetOptions): Promise<unknown[]> {
    const resolved = await this.conn.request<ResolvedRef[] | { timeout: number }>('get', { ids, options });
    if (!Array.isArray(resolved)) throw new GetTimeoutError(options.timeoutMs ?? 0, resolved.timeout);
    return this.materializeAll(resolved);
  }

  put(value: unknown, options: PutOptions): ObjectRef<unknown> {
    const objectId = this.newId('p');
    const transport = options.tensorTransport;
    if (transport && transport !== OBJECT_STORE) {
      if (transferMode(transport) !== 'one-sided') {
        throw new InvalidArgumentError(
          `put(..., { tensorTransport: '${transport}' }) needs a one-sided transport (such as 'nixl'); ` +
            `'${transport}' moves tensors only between members of a collective group, so return the tensors from a method instead`,
        );
      }
      const { skeleton, tensors } = extractTensors(value);
      if (tensors.length > 0) {
        const refIds = new Set<string>();
        // The ref announces the id to the driver (ref.add) before the registration is done.
        const ref = new ObjectRef(objectId);
        const ready = this.gpu.store(objectId, skeleton, tensors, transport, 0, refIds);
        ready.then(
          (gpu) => this.conn.notify('put', { objectId, gpu, refIds: [...refIds] }),
          (err: Error) => this.conn.notify('put', { objectId, error: toWireError(err) }),
        );
        return ref;
      }
    }
    const refIds = new Set<string>();
    const encoded = this.serializer.encode(value, encodeHooks(refIds));
    const ref = new ObjectRef(objectId); // announces the id before the put (see submit)
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

