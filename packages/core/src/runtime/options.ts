import 'reflect-metadata';
import type { InjectionToken } from 'tsyringe';
import { checkDurationMs, checkInteger } from './validate';
import { InvalidArgumentError } from '../errors/errors';
import type { Launcher } from './launcher-types';
import { DEFAULT_MAX_FRAME_BYTES, FRAME_FORMAT_MAX_BYTES, MIN_MAX_FRAME_BYTES } from '../rpc/limits';

/** A DI override: `{ token: TOKENS.ObjectStore, useValue: myStore }` or `useClass`. */
export type Provider =
  | { token: InjectionToken<unknown>; useValue: unknown }
  | { token: InjectionToken<unknown>; useClass: new (...args: any[]) => unknown }
  | { token: InjectionToken<unknown>; useFactory: (c: import('tsyringe').DependencyContainer) => unknown };

/** Options of `init()`. */
export interface RuntimeOptions {
  /** Override services: ObjectStore, Launcher, Serializer, Logger, Clock (see TOKENS). */
  providers?: Provider[];
  /**
   * Transport modules to load in the driver and every actor (besides those already imported),
   * e.g. ['@tensorwire/gloo'] or absolute paths.
   */
  transports?: string[];
  /** Per-transport options handed to endpoints, e.g. `{ gloo: { host: '127.0.0.1' } }`. */
  transportOptions?: Record<string, Record<string, unknown>>;
  /** Deadline of each tensor transfer (default 60 000 ms). */
  transferTimeoutMs?: number;
  /**
   * GPU objects whose tensors total at most this many bytes (default 65 536) also send the
   * driver a copy when made, so passing them on costs no transfer round trip (like Ray's
   * inlined small objects). The producer still keeps the tensors themselves; once a ref went
   * back to its producer (which may have changed the tensors), consumers get them over the
   * transport again. 0 turns this off.
   */
  inlineGpuObjectBytes?: number;
  /** How long an actor may take to start and construct (default 60 000 ms). */
  actorStartTimeoutMs?: number;
  /**
   * What starts actor processes: a registered launcher's name (`'slurm'` loads
   * `@tensorwire/slurm`: each actor a job step of the allocation the driver runs in) or a
   * {@link Launcher} object. Default: a launcher package that claims this process (importing
   * `@tensorwire/slurm` inside a Slurm allocation), else local child processes. A
   * `providers` entry for TOKENS.Launcher overrides this.
   *
   * @example
   * ```ts
   * await init({ launcher: 'slurm' }); // inside `sbatch`/`salloc`: actors become job steps
   * ```
   */
  launcher?: string | Launcher;
  /**
   * Control plane: 'unix' (default: a private Unix socket, actors on this host) or an address
   * of this host to listen on with TCP and TLS, for actors on other hosts. A remote launcher
   * (e.g. 'slurm') chooses the address that reaches its hosts when this is left unset.
   * Nothing listens on a wildcard address ('0.0.0.0', '::') unless it is given here.
   */
  host?: string;
  /** TCP port of the control plane (0..65535; default 0: any free port). */
  port?: number;
  /**
   * Largest message, in bytes, between the driver and an actor (default 4 294 967 295, the
   * frame format's own limit, so nothing that fits the format is refused; from 65 536 up).
   * A sender whose message is larger gets an InvalidArgumentError naming both sizes, and a
   * receiver closes a connection whose peer sends one anyway, before allocating it. Lower it
   * to bound what one message may cost a process; large tensors need not pass through here
   * when returned with `@method({ tensorTransport })`. Connections that have not
   * authenticated are held to a fixed 16 KiB whatever this says.
   */
  maxFrameBytes?: number;
  /**
   * Forward what actors print through the driver's stdout/stderr, each line prefixed with the
   * actor's class and pid, `(Worker pid=123) ...`, as Ray does (default true). False, or the
   * environment variable TENSORWIRE_PREFIX_ACTOR_OUTPUT=0, lets actors write to the terminal
   * as they are.
   */
  prefixActorOutput?: boolean;
  /**
   * How many GPUs this machine has for `spawn(Cls, { numGpus })` (as Ray's `init(num_gpus=)`).
   * Default: the count of the CUDA device backend registered in the driver, or 0 without one.
   */
  numGpus?: number;
  /**
   * Where ordinary (object-store) results of actors keep their bytes. 'auto' (default): in
   * shared memory when `@tensorwire/shm-store` is installed and the producer runs on the
   * driver's host (results of 1 MiB and up are written once there and read by consumers
   * straight from it, not relayed through the driver's sockets), else in the driver's memory.
   * 'shared-memory': the same, but init fails when the package cannot be loaded. 'memory':
   * always in the driver's memory. The environment variable TENSORWIRE_OBJECT_STORE
   * (memory | shared-memory | auto) sets the default; `memory` in one actor's environment
   * (`spawn(C, { env: { TENSORWIRE_OBJECT_STORE: 'memory' } })`) turns it off for that actor.
   *
   * @example
   * ```ts
   * await init({ objectStore: 'memory' }); // every result through the driver's sockets
   * ```
   */
  objectStore?: ObjectStoreKind;
}

/** Values of RuntimeOptions.objectStore. */
export type ObjectStoreKind = 'auto' | 'shared-memory' | 'memory';
const OBJECT_STORE_KINDS: readonly ObjectStoreKind[] = ['auto', 'shared-memory', 'memory'];

export interface ResolvedOptions extends Required<Omit<RuntimeOptions, 'providers' | 'port' | 'numGpus' | 'launcher'>> {
  port?: number;
  launcher?: string | Launcher;
  numGpus?: number;
}

export function resolveOptions(o: RuntimeOptions = {}): ResolvedOptions {
  // Numbers are checked here, once: a bad one would otherwise show later as every transfer
  // failing at once (0, -1, NaN) or as a silently disabled deadline.
  checkDurationMs('init: transferTimeoutMs', o.transferTimeoutMs);
  checkDurationMs('init: actorStartTimeoutMs', o.actorStartTimeoutMs);
  checkInteger('init: inlineGpuObjectBytes', o.inlineGpuObjectBytes, 0);
  checkInteger('init: maxFrameBytes', o.maxFrameBytes, MIN_MAX_FRAME_BYTES, FRAME_FORMAT_MAX_BYTES);
  checkInteger('init: port', o.port, 0, 65_535);
  checkInteger('init: numGpus', o.numGpus, 0);
  if (o.host !== undefined && (typeof o.host !== 'string' || o.host.trim() === '')) {
    throw new InvalidArgumentError(
      `init: host must be 'unix' (the default) or a non-empty host name or address to listen on, e.g. '127.0.0.1', got ${JSON.stringify(o.host)}`,
    );
  }
  if (o.launcher !== undefined && !(typeof o.launcher === 'string' && o.launcher !== '') && typeof (o.launcher as Launcher | null)?.launch !== 'function') {
    throw new InvalidArgumentError(
      `init: launcher must be a launcher's name (e.g. 'slurm') or an object with a launch(spec) method, got ${JSON.stringify(o.launcher)}`,
    );
  }
  const objectStore = o.objectStore ?? (process.env.TENSORWIRE_OBJECT_STORE || 'auto');
  if (!OBJECT_STORE_KINDS.includes(objectStore as ObjectStoreKind)) {
    const from = o.objectStore !== undefined ? 'init: objectStore' : 'TENSORWIRE_OBJECT_STORE';
    throw new InvalidArgumentError(`${from} must be one of ${OBJECT_STORE_KINDS.map((k) => `'${k}'`).join(', ')}, got ${JSON.stringify(objectStore)}`);
  }
  if (o.prefixActorOutput !== undefined && typeof o.prefixActorOutput !== 'boolean') {
    throw new InvalidArgumentError(`init: prefixActorOutput must be true or false, got ${JSON.stringify(o.prefixActorOutput)}`);
  }
  return {
    prefixActorOutput: o.prefixActorOutput ?? process.env.TENSORWIRE_PREFIX_ACTOR_OUTPUT !== '0',
    transports: o.transports ?? [],
    transportOptions: o.transportOptions ?? {},
    transferTimeoutMs: o.transferTimeoutMs ?? 60_000,
    actorStartTimeoutMs: o.actorStartTimeoutMs ?? 60_000,
    inlineGpuObjectBytes: o.inlineGpuObjectBytes ?? 64 * 1024,
    host: o.host ?? 'unix',
    port: o.port,
    maxFrameBytes: o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    numGpus: o.numGpus,
    launcher: o.launcher,
    objectStore: objectStore as ObjectStoreKind,
  };
}
