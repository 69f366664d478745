/**
 * The driver: owns actors, every object and ref, GPU-object metadata and collective groups.
 * Built by tsyringe from DI tokens; the public API functions forward to it.
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inject, injectable } from 'tsyringe';
import type { ActorInfo } from '../runtime/actor-info';
import { actorMeta, methodGroups, methodNames, methodTransports } from '../actor/decorators';
import { validateTransportName } from '../transport/transport-names';
import type { Launcher } from './launcher';
import { makeHandle, type ActorHandle } from '../actor/handle';
import type { RemoteArgs } from '../actor/remote-args';
import {
  ActorDiedError, GetTimeoutError, InvalidArgumentError, ObjectLostError, RuntimeStateError, TaskError,
} from '../errors/errors';
import { fromWireError, toWireError, type WireError } from '../errors/wire-error';
import { DRIVER_READER, GpuObjectManager } from '../gpu/gpu-object-manager';
import type { GpuDriverPort, GroupChoice } from '../gpu/driver-port';
import { materialize, type MaterializeDeps } from '../gpu/materialize';
import { ObjectRef } from '../objects/object-ref';
import type { ObjectStore } from '../objects/object-store';
import { ObjectTable, type ObjectEntry } from './object-table';
import { pendingReads } from '../gpu/gpu-entry';
import { isInActorNamespace, newRuntimeId, unknownActorReason, unknownIdReason } from '../objects/object-id';
import { detachedCopy, type Serializer } from '../objects/serializer';
import { decodeHooks, encodeHooks } from '../actor/value-hooks';
import type { Connection } from '../rpc/connection';
import { ControlServer } from '../rpc/control-server';
import { makeSelfSignedIdentity } from '../rpc/self-signed-cert';
import { adoptNetworkHost } from '../runtime/network-host';
import type { ActorSpec, ActorStats, CallMessage, ResultMessage, SubmitMessage } from '../runtime/protocol';
import { type ResolvedRef } from '../gpu/gpu-object';
import { EndpointCache } from '../transport/endpoints';
import { listTransports } from '../transport/registry';
import { CollectiveManager } from '../collective/collective-manager';
import type { ActorRecord } from './actor-record';
import type { CallOptions, CoreContext, GetOptions, GetRequest, PutOptions } from '../runtime/context';
import { intoMetas, intoTensors } from '../gpu/into';
import type { Logger } from '../log/logger';
import type { ResolvedOptions } from '../runtime/options';
import { TOKENS } from '../runtime/tokens';
import { checkInteger } from '../runtime/validate';
import { countDevices } from '../tensor/device';
import { GpuPlacement } from './gpu-placement';
import { chooseValuePlacement, PlacedValues } from './placed-values';

/** Options of `spawn`; `A` is the class's constructor parameters. */
export interface SpawnOptions<A extends readonly unknown[] = unknown[]> {
  /** Constructor arguments, typed from the constructor (refs allowed in place of any part). */
  args?: RemoteArgs<A>;
  /** A unique, readable name (default: the actor id). */
  name?: string;
  /** How many calls may run at once (default 1: strictly one after another). */
  maxConcurrency?: number;
  /** Extra environment variables for the actor process. */
  env?: Record<string, string>;
  /**
   * GPUs to reserve for the actor, as Ray's `num_gpus`: a fraction (0.5: actors share one GPU)
   * or a whole number of GPUs. The actor process sees exactly its GPUs through
   * CUDA_VISIBLE_DEVICES (so its 'cuda:0' is its first GPU); the reservation ends when the actor
   * dies. A request the machine cannot satisfy fails: InvalidArgumentError when it never could
   * (no GPU, more than there are), RuntimeStateError when other actors hold the GPUs now. How
   * many GPUs the machine has comes from `init({ numGpus })`, else from the CUDA device backend
   * registered in the driver. Default 0: the actor inherits the driver's CUDA_VISIBLE_DEVICES.
   *
   * @example
   * ```ts
   * const a = await spawn(Trainer, { numGpus: 1 });
   * const b = await spawn(Sampler, { numGpus: 0.5 }); // two samplers share one GPU
   * ```
   */
  numGpus?: number;
  /**
   * @deprecated Use `numGpus`. `gpus: n` is taken as `numGpus: n`; `gpus: [i, j]` sets the actor's
   * CUDA_VISIBLE_DEVICES to those devices without reserving them (as before). Both warn once.
   */
  gpus?: number | number[];
  /** Extra Node flags for the actor process, e.g. ['--cpu-prof'] or ['--max-old-space-size=8192']. */
  execArgv?: string[];
  /**
   * The host to run the actor on, by the name the cluster engine knows it (a Slurm node name).
   * Only with a launcher that places actors (`init({ launcher: 'slurm' })`); others refuse it
   * with InvalidArgumentError. Default: the launcher chooses.
   *
   * @example
   * ```ts
   * const a = await spawn(Trainer, { numGpus: 1, node: 'gpu-node-07' });
   * ```
   */
  node?: string;
}

const WORKER_ENTRY = path.join(__dirname, '..', 'worker', 'worker-main.js');

/** How long `shutdown()` lets actors finish and exit on their own before killing them (ShutdownOptions.graceMs). */
export const DEFAULT_SHUTDOWN_GRACE_MS = 5000;
/** Of the grace, at most this much goes to destroying collective groups. */
const GROUP_DESTROY_MS = 2000;
/** How long a killed process may take to be reported gone before shutdown goes on without it. */
const KILL_WAIT_MS = 2000;

@injectable()
export class Runtime implements CoreContext {
  readonly kind = 'driver' as const;
  /** Random id carried by every object and actor id this runtime issues (see object-id.ts). */
  readonly runtimeId = newRuntimeId();
  readonly objects = new ObjectTable();
  readonly actors = new Map<string, ActorRecord>();
  readonly collectives: CollectiveManager;
  readonly gpu: GpuObjectManager;
  readonly endpoints: EndpointCache;
  private readonly server: ControlServer;
  private state: 'new' | 'running' | 'stopped' = 'new';
  private seq = 0;
  private actorSeq = 0;
  private busy = 0;
  private keepAlive: NodeJS.Timeout | null = null;
  /** How `get` in the driver materializes values: it holds no tensors and is in no group. */
  private readonly driverDeps: MaterializeDeps;
  /** GPU reservations of the actors (spawn's numGpus). */
  private readonly gpus: GpuPlacement;
  private warnedGpusOption = false;
  /** SHA-256 fingerprint of the control plane's TLS certificate (TCP only), handed to actors. */
  private certSha256: string | undefined;
  /** Variables set in this process for its own transports (network-host.ts): not for actors, whose hosts differ. */
  private adoptedEnv: string[] = [];
  /** The shared-memory object store's driver side (placed-values.ts). */
  private readonly placed: PlacedValues;

  constructor(
    @inject(TOKENS.ObjectStore) readonly store: ObjectStore,
    @inject(TOKENS.Launcher) private readonly launcher: Launcher,
    @inject(TOKENS.Serializer) readonly serializer: Serializer,
    @inject(TOKENS.Logger) readonly logger: Logger,
    @inject(TOKENS.Options) readonly options: ResolvedOptions,
  ) {
    this.server = new ControlServer(serializer, logger, (hello, conn) => this.onConnection(hello, conn), { maxFrameBytes: options.maxFrameBytes });
    this.endpoints = new EndpointCache('driver', logger, options.transportOptions);
    this.collectives = new CollectiveManager(
      { connOf: (id) => this.aliveConn(id), nameOf: (id) => this.actors.get(id)?.info.name ?? id },
      logger,
    );
    this.gpu = new GpuObjectManager(this.gpuPort());
    this.placed = new PlacedValues(chooseValuePlacement(options.objectStore ?? 'auto', logger), this.runtimeId);
    this.gpus = new GpuPlacement(
      () => (options.numGpus !== undefined ? { count: options.numGpus } : countDevices('cuda')),
      process.env.CUDA_VISIBLE_DEVICES,
    );
    this.driverDeps = {
      serializer,
      decodeHooks: decodeHooks(),
      selfName: 'driver',
      localTensors: () => undefined,
      group: () => undefined,
      endpoint: (t) => this.endpoints.get(t),
    };
  }

  /** What the GPU-object manager may see of the driver (gpu/driver-port.ts). */
  private gpuPort(): GpuDriverPort {
    return {
      logger: this.logger,
      transferTimeoutMs: this.options.transferTimeoutMs,
      entry: (id) => this.objects.get(id),
      entries: () => this.objects.values(),
      forget: (id) => this.objects.delete(id),
      storedValue: (id) => this.store.get(id),
      errorOf: (id) => this.errorOf(this.entryOf(id)), // the manager asks only of entries it holds
      actorName: (id) => this.actors.get(id)?.info.name ?? id,
      aliveConn: (id) => this.aliveConn(id),
      route: (transport, producerId, consumerId, named) => {
        const r = this.collectives.route(transport, producerId, consumerId, named);
        return { group: r.group.name, srcRank: r.srcRank, dstRank: r.dstRank };
      },
      groupActive: (group) => this.collectives.get(group)?.state === 'active',
      destroyGroup: (group, reason) => void this.collectives.destroy(group, reason),
    };
  }

  /**
   * Listen for actors: on the private Unix socket, or, when `init({ host })` names an address
   * or a remote launcher gives one, on TCP with TLS (a new key and certificate per runtime).
   */
  async start(): Promise<void> {
    let host = this.options.host;
    if (host === 'unix' && this.launcher.controlHost) host = await this.launcher.controlHost();
    const tls = host !== 'unix' ? makeSelfSignedIdentity() : undefined;
    await this.server.start({ host, port: this.options.port, tls });
    this.certSha256 = tls?.fingerprint256;
    if (tls) this.adoptedEnv = adoptNetworkHost(host);
    this.state = 'running';
  }

  /** Where actors join this driver: a socket path, or host:port (TLS) for actors on other hosts. */
  get controlAddress(): string {
    return this.server.address;
  }

  // ---- liveness: Node stays up while work is pending, and not longer -------------------

  hold(): void {
    if (this.busy++ === 0) this.keepAlive = setInterval(() => {}, 1 << 30);
  }

  release(): void {
    if (--this.busy === 0 && this.keepAlive) {
      clearInterval(this.keepAlive);
      this.keepAlive = null;
    }
  }

  private assertRunning(what: string): void {
    if (this.state !== 'running') throw new RuntimeStateError(`${what}: the runtime is ${this.state === 'stopped' ? 'shut down' : 'not started'}; call \`await init()\``);
  }

  aliveConn(actorId: string): Connection | undefined {
    const a = this.actors.get(actorId);
    return a && a.state === 'alive' ? a.conn : undefined;
  }

  // ---- actors --------------------------------------------------------------------------

  async spawn<T>(cls: new (...args: any[]) => T, opts: SpawnOptions = {}): Promise<ActorHandle<T>> {
    this.assertRunning('spawn');
    const meta = actorMeta(cls);
    if (!meta) {
      throw new InvalidArgumentError(`${(cls as { name?: string })?.name ?? String(cls)} is not an actor class: decorate it with @actor() (from @tensorwire/core)`);
    }
    if (!meta.module || !fs.existsSync(meta.module)) {
      throw new InvalidArgumentError(
        `cannot tell which module file defines actor class ${meta.className} (defined in a REPL or with eval?). ` +
          'Actor processes load the class from its module: define it in a .js/.ts module file, ' +
          'or give the file with @actor({ module: __filename }) / @actor({ module: import.meta.url })',
      );
    }
    const actorNo = ++this.actorSeq;
    const actorId = `a${actorNo}@${this.runtimeId}`;
    const name = opts.name ?? `actor-${actorNo}`;
    if ([...this.actors.values()].some((a) => a.info.name === name && a.state !== 'dead')) {
      throw new InvalidArgumentError(`an actor named '${name}' is already running; names must be unique`);
    }
    const maxConcurrency = checkInteger('spawn: maxConcurrency', opts.maxConcurrency ?? meta.options.maxConcurrency ?? 1, 1)!;
    const ctorArgs = checkConstructorArgs(cls, meta.className, opts.args);
    const refIds = new Set<string>();
    const keptIds = new Set<string>();
    const args = this.serializer.encode(ctorArgs, encodeHooks(refIds, keptIds));
    // Refs among the constructor arguments are pinned until the actor is constructed: the
    // caller may drop them the moment spawn() is called. Kept ones (keepRef) are pinned too,
    // until the actor's own ref counts them, but neither awaited nor resolved.
    const argEntries = [...refIds].map((id) => this.entryOf(id));
    const keptEntries = [...keptIds].map((id) => this.entryOf(id));
    const info: ActorInfo = {
      actorId, name, className: meta.className, methods: methodNames(cls), methodTransports: methodTransports(meta), methodGroups: methodGroups(meta),
    };
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of this.adoptedEnv) delete env[name];
    Object.assign(env, opts.env, {
      TENSORWIRE_DRIVER_ADDRESS: this.server.address,
      TENSORWIRE_ACTOR_ID: actorId,
      TENSORWIRE_TOKEN: this.server.token,
    });
    if (this.certSha256) env.TENSORWIRE_DRIVER_CERT_SHA256 = this.certSha256;
    else delete env.TENSORWIRE_DRIVER_CERT_SHA256;
    const numGpus = this.numGpusOf(opts, meta.className);
    const placement = this.placementOf(opts, numGpus, meta.className);
    if (numGpus > 0 && opts.env?.CUDA_VISIBLE_DEVICES !== undefined) {
      throw new InvalidArgumentError(
        `spawn(${meta.className}): env.CUDA_VISIBLE_DEVICES and numGpus both choose the actor's GPUs; give one of them`,
      );
    }
    if (Array.isArray(opts.gpus)) env.CUDA_VISIBLE_DEVICES = opts.gpus.join(',');
    else if (numGpus > 0 && !placement) {
      // Reserved before anything can fail after it: the catch below gives it back.
      env.CUDA_VISIBLE_DEVICES = this.gpus.reserve(actorId, name, numGpus, `spawn(${meta.className})`).cudaVisibleDevices;
    }
    let launched = false;
    this.hold();
    for (const e of [...argEntries, ...keptEntries]) e.refs++;
    try {
      for (const e of argEntries) await this.objects.whenSettled(e);
      const resolved: Record<string, ResolvedRef> = {};
      for (const e of argEntries) resolved[e.id] = await this.placed.forConsumer(await this.gpu.resolveForGet(e, {}, actorId), actorId);
      const spec: ActorSpec = {
        actorId, name, className: meta.className, module: meta.module, args, resolved,
        transports: listTransports().map((t) => ({ name: t.plugin.name, module: t.module })),
        transportOptions: this.options.transportOptions,
        maxConcurrency,
        defaultTimeoutMs: this.options.transferTimeoutMs,
        inlineGpuObjectBytes: this.options.inlineGpuObjectBytes,
        maxFrameBytes: this.options.maxFrameBytes,
        valuePlacement: this.placed.specField(),
      };
      let resolveStarted!: () => void;
      let rejectStarted!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolveStarted = res;
        rejectStarted = rej;
      });
      promise.catch(() => {});
      const proc = this.launcher.launch({
        actorId, name, entry: WORKER_ENTRY, env, execArgv: opts.execArgv,
        outputLabel: this.options.prefixActorOutput ? meta.className : undefined,
        placement,
      });
      launched = true; // from here the reservation ends with the process (onActorExit)
      const rec: ActorRecord = {
        info, spec, proc, state: 'starting', chain: Promise.resolve(), inflight: new Map(), borrowed: new Map(), declared: new Set(),
        started: { resolve: resolveStarted, reject: rejectStarted, promise },
      };
      this.actors.set(actorId, rec);
      proc.onExit((code, signal, detail) => this.onActorExit(rec, code, signal, detail));
      const timer = setTimeout(() => {
        if (rec.state === 'starting') {
          rejectStarted(new RuntimeStateError(`actor ${name} did not start within ${this.options.actorStartTimeoutMs} ms`));
          proc.kill('SIGKILL');
        }
      }, this.options.actorStartTimeoutMs);
      try {
        await promise;
      } finally {
        clearTimeout(timer);
      }
      return makeHandle<T>(info);
    } finally {
      if (!launched) this.gpus.release(actorId);
      this.releaseRefs([...argEntries, ...keptEntries].map((e) => e.id));
      this.release();
    }
  }

  /**
   * What a launcher that places actors gets (numGpus, node); undefined for other launchers,
   * which refuse `node` (the driver places their actors on this host).
   */
  private placementOf(opts: SpawnOptions, numGpus: number, className: string): { numGpus?: number; node?: string } | undefined {
    const node = opts.node;
    if (node !== undefined && (typeof node !== 'string' || node.trim() === '')) {
      throw new InvalidArgumentError(`spawn(${className}): node must be a host name of the cluster, got ${JSON.stringify(node)}`);
    }
    if (!this.launcher.placesActors) {
      if (node !== undefined) {
        throw new InvalidArgumentError(
          `spawn(${className}): node '${node}' needs a launcher that places actors on hosts (e.g. init({ launcher: 'slurm' })); ` +
            'the default launcher runs every actor on this host: leave node out',
        );
      }
      return undefined;
    }
    return { ...(numGpus > 0 ? { numGpus } : {}), ...(node !== undefined ? { node } : {}) };
  }

  /** spawn's numGpus, or the deprecated gpus option as a number (checked; 0 when neither). */
  private numGpusOf(opts: SpawnOptions, className: string): number {
    const where = `spawn(${className})`;
    if (opts.gpus !== undefined) {
      if (opts.numGpus !== undefined) throw new InvalidArgumentError(`${where}: give numGpus only (gpus is its deprecated older form)`);
      const valid = Array.isArray(opts.gpus) ? opts.gpus.every((g) => Number.isInteger(g) && g >= 0) : Number.isFinite(opts.gpus) && opts.gpus >= 0;
      if (!valid) throw new InvalidArgumentError(`${where}: gpus must be a non-negative number or a list of device indices, got ${JSON.stringify(opts.gpus)}`);
      if (!this.warnedGpusOption) {
        this.warnedGpusOption = true;
        this.logger.warn(
          `${where}: the gpus option is deprecated; use numGpus (gpus: ${JSON.stringify(opts.gpus)} -> ` +
            (Array.isArray(opts.gpus)
              ? `numGpus: ${opts.gpus.length}, which reserves GPUs and sets CUDA_VISIBLE_DEVICES itself; a list pins devices without reserving them)`
              : `numGpus: ${opts.gpus})`),
        );
      }
      return Array.isArray(opts.gpus) ? 0 : GpuPlacement.check(opts.gpus, where);
    }
    return opts.numGpus === undefined ? 0 : GpuPlacement.check(opts.numGpus, where);
  }

  /**
   * An actor's hello, its token already checked by the ControlServer: the actor's spec, or
   * undefined (the server then closes the connection) for an unknown or already connected actor.
   */
  private onConnection(hello: { actorId: string }, conn: Connection): ActorSpec | undefined {
    const rec = this.actors.get(hello.actorId);
    if (!rec || rec.conn) return undefined;
    rec.conn = conn;
    this.installActorHandlers(rec, conn);
    return rec.spec;
  }

  private installActorHandlers(rec: ActorRecord, conn: Connection): void {
    conn.on('close', () => {
      // The process is going away: wait briefly for its exit status, then declare it dead.
      setTimeout(() => this.onActorExit(rec, null, null, 'lost its connection to the driver'), 2000).unref();
    });
    conn.on('handlerError', (err: Error, type: string) => this.logger.error(`handling '${type}' from ${rec.info.name}: ${err.stack}`));
    conn.handle('started', (b: { error?: WireError; host?: string }) => {
      if (b.error) {
        const err = b.error.name === 'InvalidArgumentError' || b.error.name === 'TransportUnavailableError'
          ? fromWireError(b.error)
          : new TaskError(rec.info.name, 'constructor', b.error.name, b.error.message, b.error.stack);
        rec.started.reject(err);
        rec.killedByUser = true;
        rec.proc.kill('SIGKILL');
        return;
      }
      rec.state = 'alive';
      this.placed.started(rec.info.actorId, b.host);
      rec.started.resolve();
    });
    conn.handle('result', (m: ResultMessage) => this.onResult(rec, m));
    conn.handle('submit', (m: SubmitMessage) => this.onActorSubmit(rec, m));
    conn.handle('put', (m: Parameters<Runtime['onActorPut']>[1]) => this.onActorPut(rec, m));
    conn.handle('get', async (b: { ids: string[]; options: GetRequest }) => {
      const r = await this.getResolved(b.ids, b.options, rec.info.actorId);
      return Array.isArray(r) ? Promise.all(r.map((x) => this.placed.forConsumer(x, rec.info.actorId))) : r;
    });
    conn.handle('wait', (b: { ids: string[]; numReturns: number; timeoutMs?: number }) => this.wait(b.ids, b.numReturns, b.timeoutMs));
    conn.handle('free', (b: { ids: string[] }) => this.free(b.ids));
    conn.handle('kill', (b: { actorId: string }) => this.kill(b.actorId));
    conn.handle('reads.done', (b: { ids: string[] }) => b.ids.forEach((id) => this.gpu.readDone(id, rec.info.actorId)));
    conn.handle('ref.add', (b: { id: string }) => this.onActorRefAdded(rec, b.id));
    conn.handle('ref.release', (b: { id: string }) => {
      const n = rec.borrowed.get(b.id);
      if (!n) return; // never counted (an id unknown when its ref was made)
      if (n > 1) rec.borrowed.set(b.id, n - 1);
      else rec.borrowed.delete(b.id);
      this.refCollected(b.id);
    });
    conn.handle('group.broken', (b: { group: string; reason: string }) => {
      if (this.collectives.get(b.group)?.state !== 'active') return;
      this.logger.warn(`collective group '${b.group}' is destroyed on every member: ${b.reason}`);
      void this.collectives.destroy(b.group, b.reason);
    });
    const kv = this.collectives.kv;
    conn.handle('kv.set', (b: { group: string; key: string; value: Uint8Array }) => kv.set(`${b.group}/${b.key}`, b.value));
    conn.handle('kv.get', (b: { group: string; key: string; timeoutMs: number }) => kv.get(`${b.group}/${b.key}`, b.timeoutMs));
    conn.handle('kv.wait', (b: { group: string; keys: string[]; timeoutMs: number }) =>
      kv.wait(b.keys.map((k) => `${b.group}/${k}`), b.timeoutMs),
    );
  }

  private onActorExit(rec: ActorRecord, code: number | null, signal: string | null, detail?: string): void {
    if (rec.state === 'dead') return;
    const wasStarting = rec.state === 'starting';
    rec.state = 'dead';
    const why = this.state === 'stopped' ? 'runtime shut down' : rec.killedByUser ? 'killed by kill()' : detail;
    rec.death = new ActorDiedError(rec.info.name, code, signal, why);
    if (wasStarting) rec.started.reject(rec.death);
    for (const call of rec.inflight.values()) {
      this.releaseRefs(call.refIds);
      this.fail(this.objects.ensure(call.objectId), toWireError(rec.death), true);
    }
    rec.inflight.clear();
    // Objects it announced (a ref made in it) but whose put never arrived will never be ready.
    for (const id of rec.declared) {
      const e = this.objects.get(id);
      if (e) this.fail(e, toWireError(rec.death), true);
    }
    rec.declared.clear();
    for (const [id, n] of rec.borrowed) for (let i = 0; i < n; i++) this.refCollected(id);
    rec.borrowed.clear();
    this.gpu.onActorDied(rec.info.actorId);
    this.placed.actorDied(rec.info.actorId);
    this.gpus.release(rec.info.actorId);
    const how = signal ? `signal ${signal}` : code !== null ? `exit code ${code}` : why ?? 'unknown cause';
    void this.collectives.onActorDied(rec.info.actorId, `actor ${rec.info.name} died (${how})`);
    rec.conn?.destroy('actor died');
  }

  async kill(actorId: string): Promise<void> {
    const rec = this.actors.get(actorId);
    if (!rec) throw new InvalidArgumentError(`kill: ${unknownActorReason(actorId, this.runtimeId)}`);
    if (rec.state === 'dead') return;
    rec.killedByUser = true;
    const exited = new Promise<void>((resolve) => rec.proc.onExit(() => resolve()));
    rec.proc.kill('SIGKILL');
    this.hold();
    try {
      await exited;
    } finally {
      this.release();
    }
  }

  async actorStats(actorId: string): Promise<ActorStats> {
    const conn = this.aliveConn(actorId);
    if (!conn) throw this.actors.get(actorId)?.death ?? new InvalidArgumentError(`no running actor ${actorId}`);
    this.gpu.flushFrees(actorId); // stats reflect every free made before
    return conn.request<ActorStats>('stats');
  }

  // ---- calls ---------------------------------------------------------------------------

  submit(target: ActorInfo, method: string, args: unknown[], options: CallOptions): ObjectRef<unknown> {
    this.assertRunning(`${target.name}.${method}.remote()`);
    if (!this.actors.has(target.actorId)) {
      throw new InvalidArgumentError(`${target.name}.${method}.remote(): ${unknownActorReason(target.actorId, this.runtimeId)}`);
    }
    const refIds = new Set<string>();
    const keptIds = new Set<string>();
    const encoded = this.serializer.encode(args, encodeHooks(refIds, keptIds));
    for (const id of [...refIds, ...keptIds]) this.entryOf(id); // a forged, foreign or freed ref fails here, at once
    const objectId = this.newObjectId();
    this.enqueue(target, objectId, method, encoded, [...refIds], options, undefined, [...keptIds]);
    return new ObjectRef(objectId); // after enqueue made its entry, which the ref counts on
  }

  private onActorSubmit(from: ActorRecord, m: SubmitMessage): void {
    if (this.state !== 'running') return;
    if (!this.claimActorObjectId(from, m.objectId, 'submit')) return;
    const unknown = [...m.refIds, ...(m.keptIds ?? [])].find((id) => !this.objects.has(id));
    if (unknown !== undefined) {
      // Fail this call alone, at once: a ref that can never resolve must not block the target's queue.
      const entry = this.objects.ensure(m.objectId);
      this.fail(entry, toWireError(new ObjectLostError(unknown, `passed to ${m.target.name}.${m.method}() by ${from.info.name}: ${unknownIdReason(unknown, this.runtimeId)}`)), true);
      if (entry.refs <= 0) this.collect(entry);
      return;
    }
    this.enqueue(m.target, m.objectId, m.method, m.args, m.refIds, m.options, from, m.keptIds ?? []);
  }

  /**
   * An actor may only make objects in its own namespace (`<actorId>.…`), and each only once:
   * a buggy or hostile actor cannot overwrite another object. False (and a warning) otherwise.
   */
  private claimActorObjectId(from: ActorRecord, id: string, what: string): boolean {
    const existing = this.objects.get(id);
    const declared = from.declared.delete(id);
    if (isInActorNamespace(id, from.info.actorId) && (!existing || (declared && existing.state === 'pending'))) return true;
    this.logger.warn(`ignored a '${what}' from actor ${from.info.name} for object id ${id}: not a new id of its own`);
    return false;
  }

  /**
   * A ref came to life in an actor. Refs to unknown ids are not counted (they fail when used);
   * a ref to a new id of the actor's own (made before its submit/put message) announces it.
   */
  private onActorRefAdded(rec: ActorRecord, id: string): void {
    if (!this.objects.has(id)) {
      if (!isInActorNamespace(id, rec.info.actorId) || rec.state === 'dead') return;
      this.objects.ensure(id);
      rec.declared.add(id);
    }
    rec.borrowed.set(id, (rec.borrowed.get(id) ?? 0) + 1);
    this.refAdded(id);
  }

  /** The entry of an id given to the API, or ObjectLostError saying why there is none. */
  entryOf(id: string): ObjectEntry {
    const e = this.objects.get(id);
    if (!e) throw new ObjectLostError(id, unknownIdReason(id, this.runtimeId));
    return e;
  }

  private newObjectId(): string {
    return `o${++this.seq}@${this.runtimeId}`;
  }

  /**
   * Queue a call on its actor. `refIds`: refs in the arguments, awaited and resolved for the
   * actor; `keptIds`: refs passed with keepRef, only pinned until the call's result (the
   * actor's own ObjectRef, announced before that, keeps them alive from then on).
   */
  private enqueue(
    target: ActorInfo, objectId: string, method: string, args: CallMessage['args'], refIds: string[], options: CallOptions,
    from?: ActorRecord, keptIds: string[] = [],
  ): void {
    const entry = this.objects.ensure(objectId);
    entry.producer = { actorId: target.actorId, actorName: target.name, method };
    const rec = this.actors.get(target.actorId);
    if (!rec) {
      const why = unknownActorReason(target.actorId, this.runtimeId);
      this.fail(entry, toWireError(new InvalidArgumentError(`${target.name}.${method}(): ${why}${from ? ` (called from ${from.info.name})` : ''}`)), true);
      if (entry.refs <= 0) this.collect(entry);
      return;
    }
    const pinned = [...refIds, ...keptIds];
    for (const id of pinned) this.objects.ensure(id).refs++;
    this.hold();
    rec.chain = rec.chain.then(async () => {
      try {
        for (const id of refIds) await this.objects.whenSettled(this.objects.ensure(id));
        if (rec.state !== 'alive') await rec.started.promise;
        if (rec.state !== 'alive') throw rec.death ?? new RuntimeStateError(`actor ${rec.info.name} is not running`);
        const resolved: Record<string, ResolvedRef> = {};
        const named = this.groupChoiceOf(rec, method, options);
        for (const id of refIds) {
          const r = await this.gpu.resolveForCall(this.objects.ensure(id), rec.info.actorId, named);
          resolved[id] = await this.placed.forConsumer(r, rec.info.actorId);
        }
        rec.inflight.set(objectId, { objectId, refIds: pinned });
        const frees = this.gpu.takeFrees(rec.info.actorId); // ride with the call, applied before it
        const call: CallMessage = { taskId: objectId, method, args, resolved, tensorTransport: options.tensorTransport, collectiveGroup: options.collectiveGroup, frees };
        try {
          rec.conn!.notify('call', call);
        } catch (err) {
          if (frees) rec.conn!.notify('gpu.free', { ids: frees }); // the call failed, not its frees
          throw err;
        }
      } catch (err) {
        this.releaseRefs(pinned);
        this.fail(entry, toWireError(err), true);
      }
    });
    // Settling (result, failure or death) ends the hold taken for this call.
    void this.objects.whenSettled(entry).then(() => this.release());
  }

  /** The group a call (or else its method) names for moving GPU objects to the actor. */
  private groupChoiceOf(rec: ActorRecord, method: string, options: CallOptions): GroupChoice | undefined {
    const where = `${rec.info.name}.${method}`;
    if (options.collectiveGroup) return { group: options.collectiveGroup, by: `${where}.options({ collectiveGroup })` };
    const group = rec.info.methodGroups?.[method];
    return group ? { group, by: `@method({ collectiveGroup }) of ${rec.info.className}.${method}` } : undefined;
  }

  private onResult(rec: ActorRecord, m: ResultMessage): void {
    const call = rec.inflight.get(m.taskId);
    rec.inflight.delete(m.taskId);
    if (call) this.releaseRefs(call.refIds);
    for (const id of m.readsDone ?? []) this.gpu.readDone(id, rec.info.actorId);
    const entry = this.objects.get(m.taskId);
    if (!entry || entry.state !== 'pending') {
      if (m.gpu) rec.conn?.notify('gpu.free', { ids: [m.taskId] });
      if (m.value?.placed) this.placed.unused(m.value); // nobody wants it: its memory goes back
      return;
    }
    this.settleWith(rec, entry, m, !!m.system);
  }

  private onActorPut(rec: ActorRecord, m: Pick<ResultMessage, 'value' | 'gpu' | 'error' | 'refIds'> & { objectId: string }): void {
    if (!this.claimActorObjectId(rec, m.objectId, 'put')) {
      if (m.value?.placed) this.placed.unused(m.value);
      return;
    }
    const entry = this.objects.ensure(m.objectId);
    entry.producer = { actorId: rec.info.actorId, actorName: rec.info.name, method: 'put' };
    this.settleWith(rec, entry, m, true);
  }

  /** Settle an entry from what its producer `rec` sent: an error, a GPU object or a value. */
  private settleWith(
    rec: ActorRecord, entry: ObjectEntry, m: Pick<ResultMessage, 'value' | 'gpu' | 'error' | 'refIds'>, systemError: boolean,
  ): void {
    if (m.error) {
      this.fail(entry, m.error, systemError);
    } else if (m.gpu) {
      this.gpu.adopt(entry, m.gpu, rec.info.actorId);
      this.objects.settle(entry, 'ready');
    } else {
      this.store.put(entry.id, m.value!);
      this.placed.stored(m.value!);
      this.objects.settle(entry, 'ready');
    }
    if (!m.error) this.pinContained(entry, m.refIds);
    if (entry.refs <= 0) this.collect(entry);
  }

  fail(entry: ObjectEntry, error: WireError, system: boolean): void {
    if (entry.state !== 'pending') return;
    entry.error = error;
    entry.errorIsSystem = system;
    this.objects.settle(entry, 'failed');
  }

  /** The error `get` throws for a failed entry. */
  errorOf(entry: ObjectEntry): Error {
    const w = entry.error!;
    if (entry.errorIsSystem || !entry.producer) return fromWireError(w);
    return new TaskError(entry.producer.actorName, entry.producer.method, w.name, w.message, w.stack);
  }

  // ---- objects -------------------------------------------------------------------------

  put(value: unknown, options: PutOptions): ObjectRef<unknown> {
    this.assertRunning('put');
    if (options.tensorTransport) validateTransportName(options.tensorTransport);
    const refIds = new Set<string>();
    // A snapshot, as Ray's put: the encoding views the caller's buffers, which the caller may
    // change (or reuse) right after put returns, and the store keeps the value until it is freed.
    const encoded = detachedCopy(this.serializer.encode(value, encodeHooks(refIds)));
    for (const id of refIds) this.entryOf(id);
    const id = this.newObjectId();
    const entry = this.objects.ensure(id);
    this.store.put(id, encoded);
    this.objects.settle(entry, 'ready');
    this.pinContained(entry, [...refIds]);
    return new ObjectRef(id);
  }

  async get(ids: readonly string[], options: GetOptions): Promise<unknown[]> {
    const { into: intoValue, ...rest } = options;
    const into = intoValue === undefined ? undefined : intoTensors(intoValue);
    const resolved = await this.getResolved(ids, { ...rest, intoMetas: into && intoMetas(into) }, undefined);
    if (!Array.isArray(resolved)) throw new GetTimeoutError(options.timeoutMs ?? 0, resolved.timeout);
    this.hold();
    try {
      return await Promise.all(
        resolved.map(async (r, i) => {
          // Decoded values must not alias the store's bytes: the caller may mutate them.
          const own: ResolvedRef = r.k === 'value' ? { k: 'value', value: detachedCopy(r.value) } : r;
          try {
            return (await materialize(own, this.driverDeps, into)).value;
          } finally {
            if (r.k === 'gpu-read') this.gpu.readDone(ids[i]!, DRIVER_READER);
          }
        }),
      );
    } finally {
      this.release();
    }
  }

  /** Wait for `ids` (with the timeout) and describe how the caller obtains each value. */
  async getResolved(ids: readonly string[], options: GetRequest, consumerId: string | undefined): Promise<ResolvedRef[] | { timeout: number }> {
    if (options.tensorTransport) validateTransportName(options.tensorTransport);
    const entries = ids.map((id) => this.entryOf(id));
    this.hold();
    try {
      const settled = Promise.all(entries.map((e) => this.objects.whenSettled(e)));
      if (options.timeoutMs !== undefined) {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          settled.then(() => false),
          new Promise<boolean>((r) => (timer = setTimeout(() => r(true), options.timeoutMs))),
        ]);
        clearTimeout(timer);
        if (timedOut) return { timeout: entries.filter((e) => e.state === 'pending').length };
      } else {
        await settled;
      }
      return await Promise.all(entries.map((e) => this.gpu.resolveForGet(e, options, consumerId)));
    } finally {
      this.release();
    }
  }

  async wait(ids: readonly string[], numReturns: number, timeoutMs: number | undefined): Promise<string[]> {
    const entries = ids.map((id) => this.entryOf(id));
    const ready = (): string[] => ids.filter((_, i) => !entries[i] || entries[i]!.state !== 'pending');
    if (ready().length >= numReturns) return ready().slice(0, numReturns);
    this.hold();
    try {
      await new Promise<void>((resolve) => {
        const timer = timeoutMs !== undefined ? setTimeout(resolve, timeoutMs) : undefined;
        const check = (): void => {
          if (ready().length >= numReturns) {
            if (timer) clearTimeout(timer);
            resolve();
          }
        };
        for (const e of entries) if (e && e.state === 'pending') void this.objects.whenSettled(e).then(check);
      });
    } finally {
      this.release();
    }
    return ready().slice(0, numReturns);
  }

  async free(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const e = this.objects.get(id);
      if (e) this.freeEntry(e);
    }
  }

  private freeEntry(e: ObjectEntry): void {
    if (e.state === 'freed') return;
    this.placed.released(this.store.get(e.id)); // before the store forgets it: its shared memory is reused
    this.store.delete(e.id);
    if (e.gpu) this.gpu.free(e);
    if (e.state === 'pending') {
      this.fail(e, toWireError(new ObjectLostError(e.id, 'freed before it was ready')), true);
    }
    e.state = 'freed';
    const contained = e.contains;
    e.contains = undefined;
    if (contained) this.releaseRefs(contained);
  }

  /**
   * Refs inside a stored value (a put, a result that returns refs) keep their objects alive as
   * long as the value lives, as Ray's nested refs do: the value may be read long after every
   * other ref to them was dropped.
   */
  private pinContained(entry: ObjectEntry, refIds: readonly string[] | undefined): void {
    if (!refIds?.length) return;
    const pinned = refIds.filter((id) => id !== entry.id && this.objects.has(id));
    for (const id of pinned) this.objects.get(id)!.refs++;
    if (pinned.length) entry.contains = [...(entry.contains ?? []), ...pinned];
  }

  /** An ObjectRef came to life in the driver. Unknown ids are not counted: they fail when used. */
  refAdded(id: string): void {
    const e = this.objects.get(id);
    if (e) e.refs++;
  }

  refCollected(id: string): void {
    const e = this.objects.get(id);
    if (!e) return;
    e.refs--;
    if (e.refs <= 0 && e.state !== 'pending') this.collect(e);
  }

  private releaseRefs(ids: readonly string[]): void {
    for (const id of ids) this.refCollected(id);
  }

  /** Nobody refers to the object any more: free it and forget it. */
  private collect(e: ObjectEntry): void {
    this.freeEntry(e);
    if (pendingReads(e) === 0) this.objects.delete(e.id);
  }

  objectStoreStats(): { objects: number; bytes: number; entries: number } {
    return { ...this.store.stats(), entries: this.objects.size };
  }

  // ---- shutdown ------------------------------------------------------------------------

  /** Stop every actor: `graceMs` is how long they may take to exit on their own before they are killed. */
  async shutdown(graceMs = DEFAULT_SHUTDOWN_GRACE_MS): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopped';
    // The transport addresses set for this runtime go with it (a later init may listen elsewhere).
    for (const name of this.adoptedEnv.splice(0)) delete process.env[name];
    // Keep Node alive until every actor is gone, even though all handles are unref'd.
    const keep = setInterval(() => {}, 1 << 30);
    try {
      await this.stopEverything(graceMs);
    } finally {
      clearInterval(keep);
    }
  }

  private async stopEverything(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    // Calls in flight fail with the reason (not as actor deaths): the runtime is going away.
    const stopped = toWireError(new RuntimeStateError('the runtime was shut down before this object was ready'));
    for (const e of this.objects.values()) this.fail(e, stopped, true);
    await Promise.race([this.collectives.destroyAll('runtime shut down'), delay(Math.min(GROUP_DESTROY_MS, graceMs))]);
    const exits: Promise<void>[] = [];
    const running = [...this.actors.values()].filter((rec) => rec.state !== 'dead');
    const asked = running.filter((rec) => rec.conn && graceMs > 0);
    for (const rec of running) {
      exits.push(new Promise<void>((resolve) => rec.proc.onExit(() => resolve())));
      if (asked.includes(rec)) rec.conn!.request('shutdown').catch(() => {});
      else rec.proc.kill('SIGKILL');
    }
    const all = Promise.all(exits);
    const left = deadline - Date.now();
    if (left <= 0 || (await Promise.race([all.then(() => 'done'), delay(left)])) !== 'done') {
      // A busy actor (a long call, a synchronous loop) cannot answer: it is killed, not waited for.
      const late = asked.filter((rec) => rec.state !== 'dead');
      if (late.length) {
        this.logger.info(`shutdown: killing ${late.map((r) => r.info.name).join(', ')}, still running after graceMs ${graceMs} ms`);
      }
      for (const rec of late) rec.proc.kill('SIGKILL');
      await Promise.race([all, delay(KILL_WAIT_MS)]);
    }
    await this.server.stop();
    await this.endpoints.closeAll();
    this.store.clear();
    this.placed.shutdown(); // after the store let go of every placed value
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = null;
    this.busy = 0;
  }
}

/**
 * The constructor arguments of a spawn: a list, at least as long as the constructor's required
 * parameters (`cls.length` counts those before the first default). Without this a missing
 * argument shows only later, as an actor computing with `undefined` (NaN).
 */
function checkConstructorArgs(cls: Function, className: string, args: unknown): readonly unknown[] {
  if (args !== undefined && !Array.isArray(args)) {
    throw new InvalidArgumentError(`spawn(${className}): args must be the list of constructor arguments, e.g. { args: [1, 'x'] }, got ${typeof args}`);
  }
  const given = (args as unknown[] | undefined) ?? [];
  if (given.length < cls.length) {
    throw new InvalidArgumentError(
      `spawn(${className}): its constructor takes ${cls.length} argument(s) but ${given.length} were given; ` +
        `pass them as spawn(${className}, { args: [...] })`,
    );
  }
  return given;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
