/**
 * Everything an actor process does: loads transports and the actor class, constructs the
 * actor, runs calls in submission order (up to maxConcurrency at once), and serves the system
 * lane (tensor sends, fetches and frees from gpu/producer-handlers.ts, group membership),
 * which a running call never blocks.
 */
import { InvalidArgumentError, RuntimeStateError } from '../errors/errors';
import { toWireError } from '../errors/wire-error';
import { extractTensors } from '../objects/codec';
import type { Serializer } from '../objects/serializer';
import { decodeHooks, encodeHooks } from '../actor/value-hooks';
import type { Connection } from '../rpc/connection';
import type { ActorSpec, ActorStats, CallMessage, ResultMessage } from '../runtime/protocol';
import type { ResolvedRef } from '../gpu/gpu-object';
import { setContext } from '../runtime/context';
import type { Logger } from '../log/logger';
import { asTwoSided } from '../gpu/transfer-mode';
import { installProducerHandlers } from '../gpu/producer-handlers';
import { materialize, type Materialized, type MaterializeDeps } from '../gpu/materialize';
import { ReceivePool } from '../gpu/receive-pool';
import { giveBackReceived } from '../gpu/borrowed-args';
import { EndpointCache } from '../transport/endpoints';
import { OBJECT_STORE } from '../transport/registry';
import type { CollectiveGroup } from '../transport/spi';
import { actorMeta } from '../actor/decorators';
import { GpuResults } from '../gpu/gpu-results';
import { loadActorClass } from './load-class';
import { WorkerContext } from './worker-context';
import { setWorkerServices } from './worker-services';
import { ValuePlacing } from './value-placing';
import { deviceMemoryStats } from '../tensor/device';
import type { Tensor } from '../tensor/tensor';

interface QueuedCall {
  msg: CallMessage;
  /** transfers started on arrival (system lane), awaited when the call runs */
  inputs: Promise<Map<string, Materialized>>;
}

export class WorkerRuntime {
  private instance: any;
  private spec!: ActorSpec;
  private endpoints!: EndpointCache;
  private gpu!: GpuResults;
  private readonly groups = new Map<string, { backend: string; group: CollectiveGroup }>();
  private readonly queue: QueuedCall[] = [];
  private running = 0;
  private receivedCopies = 0;
  /** Memory that calls receive their GPU-object arguments into, reused from call to call. */
  private readonly receivePool = new ReceivePool();
  private deps!: MaterializeDeps;
  /** The shared-memory object store, when the driver named one (value-placing.ts). */
  private placing!: ValuePlacing;
  /** The driver answered the hello (before that, a closed connection may be retried). */
  welcomed = false;

  constructor(
    private readonly conn: Connection,
    private readonly serializer: Serializer,
    private readonly logger: Logger,
  ) {}

  async start(actorId: string, token: string): Promise<void> {
    this.spec = await this.conn.request<ActorSpec>('hello', { actorId, token, pid: process.pid });
    this.welcomed = true;
    const spec = this.spec;
    // The driver's frame limit (RuntimeOptions.maxFrameBytes) holds from now on, before this
    // actor sends anything else: an oversized result fails here, naming the limit, instead of
    // making the driver hang up.
    if (typeof spec.maxFrameBytes === 'number' && spec.maxFrameBytes > 0) this.conn.maxFrameBytes = spec.maxFrameBytes;
    this.endpoints = new EndpointCache(spec.name, this.logger, spec.transportOptions);
    this.placing = ValuePlacing.fromSpec(spec, this.logger);
    this.gpu = new GpuResults(this.serializer, this.endpoints, this.logger, encodeHooks);
    this.deps = {
      serializer: this.serializer,
      decodeHooks: decodeHooks(),
      selfName: spec.name,
      localTensors: (id) => this.gpu.tensors.tensors(id),
      group: (name) => this.groups.get(name)?.group,
      endpoint: (t) => this.endpoints.get(t),
      groupFailed: (group, reason) => this.conn.notify('group.broken', { group, reason }),
    };
    setContext(new WorkerContext(actorId, this.conn, this.serializer, this.gpu, (rs, into) => this.materializeValues(rs, into), this.placing));
    setWorkerServices({
      tensorStore: this.gpu.tensors,
      group: (name) => this.groups.get(name)?.group,
      groupNames: () => [...this.groups.keys()],
      endpoint: (t) => this.endpoints.get(t),
    });
    this.installHandlers();
    try {
      for (const t of spec.transports) {
        // A transport that cannot load here must not stop the actor: its use fails later with
        // InvalidTransportError / TransportUnavailableError, which name the fix.
        try {
          require(t.module);
        } catch (err) {
          this.logger.warn(`actor ${spec.name}: transport '${t.name}' (${t.module}) could not be loaded: ${(err as Error).message}`);
        }
      }
      const cls = await loadActorClass(spec.module, spec.className);
      const inputs = await this.materializeMap(spec.resolved);
      // Constructor arguments read over a one-sided transport: the producer may free them now.
      const reads = [...inputs].filter(([, m]) => m.read).map(([id]) => id);
      if (reads.length) this.conn.notify('reads.done', { ids: reads });
      const args = this.decodeArgs(spec.args, inputs) as unknown[];
      this.instance = new (cls as new (...a: unknown[]) => unknown)(...args);
      if (this.instance && typeof this.instance.then === 'function') this.instance = await this.instance;
      // Where this actor reads shared memory: the driver inlines placed values for actors elsewhere.
      this.conn.notify('started', { host: this.placing.host() });
    } catch (err) {
      this.conn.notify('started', { error: toWireError(err) });
    }
  }

  private installHandlers(): void {
    const c = this.conn;
    c.handle('call', (msg: CallMessage) => this.enqueue(msg));
    installProducerHandlers(c, {
      tensors: this.gpu.tensors,
      serializer: this.serializer,
      selfName: this.spec.name,
      group: (name) => this.groups.get(name)?.group,
      register: (objectId) => this.gpu.registerStored(objectId),
    });
    c.handle('group.create', (b: { name: string; backend: string; rank: number; worldSize: number; timeoutMs: number }) => this.createGroup(b));
    c.handle('group.destroy', (b: { name: string; reason: string }) => this.destroyGroup(b.name, b.reason));
    c.handle('stats', (): ActorStats => ({
      pid: process.pid,
      ...this.gpu.tensors.stats(),
      ...this.gpu.registrations.stats(),
      receivedCopies: this.receivedCopies,
      receivePool: this.receivePool.stats(),
      groups: [...this.groups.keys()],
      deviceMemory: deviceMemoryStats(),
      ...(process.env.CUDA_VISIBLE_DEVICES !== undefined ? { cudaVisibleDevices: process.env.CUDA_VISIBLE_DEVICES } : {}),
    }));
  }

  // ---- calls ---------------------------------------------------------------------------

  private enqueue(msg: CallMessage): void {
    // Frees riding with the call are applied first, as a gpu.free sent before it would be.
    if (msg.frees) for (const id of msg.frees) this.gpu.tensors.free(id);
    // Start receiving/reading inputs now, on arrival: a busy actor still posts its receives.
    const inputs = this.materializeMap(msg.resolved);
    inputs.catch(() => {}); // surfaced when the call runs
    this.queue.push({ msg, inputs });
    this.pump();
  }

  private pump(): void {
    while (this.running < this.spec.maxConcurrency && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.running++;
      this.run(next).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async run({ msg, inputs }: QueuedCall): Promise<void> {
    const reply = (r: Omit<ResultMessage, 'taskId'>): void => this.conn.notify('result', { taskId: msg.taskId, ...r });
    let materialized: Map<string, Materialized>;
    try {
      materialized = await inputs;
    } catch (err) {
      reply({ error: toWireError(err), system: true, readsDone: this.readIds(msg.resolved) });
      return;
    }
    let received = 0;
    for (const m of materialized.values()) received += m.received.length;
    this.receivedCopies += received;
    const readsDone = [...materialized].filter(([, m]) => m.read).map(([id]) => id);
    try {
      let result: unknown;
      const fn = this.instance[msg.method];
      let args: unknown[];
      // Failures before the user's method runs are the runtime's, reported as such (not as
      // "the method threw"): no such method, or arguments that cannot be decoded here.
      if (typeof fn !== 'function') {
        const error = new InvalidArgumentError(`actor class ${this.spec.className} has no method '${msg.method}'`);
        reply({ error: toWireError(error), system: true, readsDone });
        return;
      }
      try {
        args = this.decodeArgs(msg.args, materialized) as unknown[];
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        const error = new InvalidArgumentError(`decoding the arguments of ${this.spec.name}.${msg.method}() failed: ${why}`, { cause: err });
        reply({ error: toWireError(error), system: true, readsDone });
        return;
      }
      try {
        result = await fn.apply(this.instance, args);
      } catch (err) {
        reply({ error: toWireError(err), readsDone });
        return;
      }
      try {
        reply({ ...(await this.packResult(msg, result)), readsDone });
      } catch (err) {
        reply({ error: toWireError(err), system: true, readsDone });
      }
    } finally {
      this.receivedCopies -= received;
      if (received > 0) this.giveBackArgs(msg.method, materialized);
    }
  }

  /**
   * The call is over: give back the tensors it received (borrowed-args.ts) once everything it
   * sent is written (its result or a put may still be going out from their memory), unless the
   * method declared `keepArgs`.
   */
  private giveBackArgs(method: string, materialized: Map<string, Materialized>): void {
    if (actorMeta(this.instance.constructor)?.methods.get(method)?.keepArgs) return;
    const tensors = [...materialized.values()].flatMap((m) => m.received);
    this.conn.afterWrites(() => giveBackReceived(tensors, this.receivePool));
  }

  private readIds(resolved: Record<string, ResolvedRef>): string[] {
    return Object.entries(resolved).filter(([, r]) => r.k === 'gpu-read').map(([id]) => id);
  }

  private async packResult(msg: CallMessage, result: unknown): Promise<Omit<ResultMessage, 'taskId'>> {
    const methodOptions = actorMeta(this.instance.constructor)?.methods.get(msg.method);
    const transport = msg.tensorTransport ?? methodOptions?.tensorTransport;
    const group = msg.collectiveGroup ?? methodOptions?.collectiveGroup;
    // Refs inside the result are reported, so the driver keeps their objects alive with it.
    const refIds = new Set<string>();
    if (transport && transport !== OBJECT_STORE) {
      const { skeleton, tensors } = extractTensors(result);
      if (tensors.length > 0) {
        const gpu = await this.gpu.store(msg.taskId, skeleton, tensors, transport, this.spec.inlineGpuObjectBytes, refIds);
        if (group) gpu.collectiveGroup = group;
        return { gpu, refIds: refIds.size ? [...refIds] : undefined };
      }
    }
    const value = await this.placing.place(this.serializer.encode(result, encodeHooks(refIds)));
    return { value, refIds: refIds.size ? [...refIds] : undefined };
  }

  private decodeArgs(args: CallMessage['args'], inputs: Map<string, Materialized>): unknown {
    return this.serializer.decode(args, decodeHooks((id) => {
      const m = inputs.get(id);
      if (!m) throw new RuntimeStateError(`argument ref ${id} was not resolved by the driver`);
      return m.value;
    }));
  }

  private async materializeMap(resolved: Record<string, ResolvedRef>): Promise<Map<string, Materialized>> {
    const entries = Object.entries(resolved);
    const done = await Promise.all(entries.map(([, r]) => materialize(r, this.deps, undefined, this.receivePool)));
    return new Map(entries.map(([id], i) => [id, done[i]!]));
  }

  private async materializeValues(rs: ResolvedRef[], into?: Tensor[]): Promise<unknown[]> {
    const settled = await Promise.allSettled(rs.map((r) => materialize(r, this.deps, into)));
    // Reads that failed are over too: the producer may free the object either way.
    const reads = rs.flatMap((r) => (r.k === 'gpu-read' ? [r.gpu.objectId] : []));
    if (reads.length) this.conn.notify('reads.done', { ids: reads });
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return settled.map((s) => (s as PromiseFulfilledResult<Materialized>).value.value);
  }

  // ---- system lane ---------------------------------------------------------------------

  private async createGroup(b: { name: string; backend: string; rank: number; worldSize: number; timeoutMs: number }): Promise<void> {
    if (this.groups.has(b.name)) throw new RuntimeStateError(`actor ${this.spec.name} is already in group '${b.name}'`);
    const ep = asTwoSided(await this.endpoints.get(b.backend), b.backend);
    const kv = (op: string) => (body: unknown) => this.conn.request(op, { group: b.name, ...(body as object) });
    const set = kv('kv.set');
    const get = kv('kv.get');
    const wait = kv('kv.wait');
    const group = await ep.createGroup({
      name: b.name,
      rank: b.rank,
      worldSize: b.worldSize,
      timeoutMs: b.timeoutMs,
      rendezvous: {
        set: async (key, value) => void (await set({ key, value })),
        get: async (key, timeoutMs) => (await get({ key, timeoutMs })) as Uint8Array,
        wait: async (keys, timeoutMs) => void (await wait({ keys, timeoutMs })),
      },
    });
    this.groups.set(b.name, { backend: b.backend, group });
  }

  private async destroyGroup(name: string, reason: string): Promise<void> {
    const g = this.groups.get(name);
    if (!g) return;
    this.groups.delete(name);
    try {
      g.group.abort(reason);
    } finally {
      await g.group.destroy().catch((err: Error) => this.logger.warn(`destroying group ${name}: ${err.message}`));
    }
  }

  /** Orderly exit: drop everything, close endpoints. */
  async stop(): Promise<void> {
    for (const name of [...this.groups.keys()]) await this.destroyGroup(name, 'actor shutting down');
    this.gpu?.tensors.freeAll();
    await this.endpoints?.closeAll();
  }
}
