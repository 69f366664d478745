/**
 * One tensorwire runtime per test process, shared by the system-level tests of every transport
 * registered in that process (init() once, with all their modules), shut down after the last test.
 */
import type { ExecutionContext } from 'ava';
import type { EffectiveOptions } from '../options';
import { core, type GroupLike } from './core-api';

const modules: string[] = [];
let initOptions: Record<string, unknown> = {};
let started: Promise<void> | undefined;
let shutdownRegistered = false;

/** Remember a transport module for the shared init(). Returns true the first time (register the after-hook then). */
export function addSystemTransport(module: string, options: EffectiveOptions): boolean {
  if (!modules.includes(module)) modules.push(module);
  initOptions = {
    transferTimeoutMs: Math.max(options.timeoutMs, 10_000),
    // Every GPU object moves over the transport under test: no inline copies of small objects
    // in the control plane (a runtime optimisation that would bypass the transport).
    inlineGpuObjectBytes: 0,
    ...initOptions,
    ...options.initOptions,
  };
  const first = !shutdownRegistered;
  shutdownRegistered = true;
  return first;
}

/** init() overrides the running runtime was started with (JSON), see {@link ensureRuntime}. */
let startedWith = '{}';

/**
 * Start the shared runtime if it is not running. With `overrides` (init() options, e.g.
 * `{ transferTimeoutMs: 1500 }` for one test, or `{}` for the suite's defaults), a runtime
 * started with other overrides is shut down and started again with these; without, any
 * running runtime will do.
 */
export async function ensureRuntime(overrides?: Record<string, unknown>): Promise<void> {
  const key = overrides === undefined ? undefined : JSON.stringify(overrides);
  if (started && key !== undefined && key !== startedWith) await shutdownRuntime();
  if (!started) {
    startedWith = key ?? '{}';
    generation++;
    const options = { ...initOptions, ...(overrides ?? {}), transports: [...modules] };
    started = (async () => {
      await core.init(options);
    })();
  }
  return started;
}

let generation = 0;
/** Which runtime this is: 1 for the first init() of the process, 2 after a restart... */
export function runtimeGeneration(): number {
  return generation;
}

/** The transfer deadline (init option transferTimeoutMs) of the running runtime. */
export function runtimeTransferTimeoutMs(): number {
  const o = JSON.parse(startedWith) as { transferTimeoutMs?: number };
  return o.transferTimeoutMs ?? (initOptions.transferTimeoutMs as number | undefined) ?? 60_000;
}

export async function shutdownRuntime(): Promise<void> {
  if (!started) return;
  const s = started;
  started = undefined;
  try {
    await s;
  } catch {
    return;
  }
  await core.shutdown();
}

let actorCounter = 0;
const names = new WeakMap<object, string>();

/** The name an actor was spawned with by {@link ActorSet}. */
export function nameOf(handle: object): string {
  return names.get(handle) ?? '?';
}

/** Spawns actors and groups for one test; kills and destroys them when it ends. */
export class ActorSet {
  private readonly actors: unknown[] = [];
  private readonly groups: GroupLike[] = [];

  constructor(
    t: ExecutionContext<unknown>,
    readonly prefix: string,
  ) {
    t.teardown(async () => {
      for (const g of this.groups) await core.destroyCollectiveGroup(g).catch(() => undefined);
      await Promise.all(this.actors.map((a) => core.kill(a).catch(() => undefined)));
    });
  }

  async spawn(cls: new (...a: any[]) => unknown, role: string): Promise<any> {
    await ensureRuntime(); // the running runtime, whatever its options
    const name = `${this.prefix}-${role}-${++actorCounter}`;
    const h = await core.spawn(cls, { name });
    this.actors.push(h);
    names.set(h, name);
    return h;
  }

  async group(actors: readonly unknown[], backend: string): Promise<GroupLike> {
    const g = await core.createCollectiveGroup(actors, { backend });
    this.groups.push(g);
    return g;
  }

  /** Destroy the groups and kill every actor of this set now (waits for the processes to exit). */
  async killAll(): Promise<void> {
    for (const g of this.groups.splice(0)) await core.destroyCollectiveGroup(g).catch(() => undefined);
    await Promise.all(this.actors.map((a) => core.kill(a).catch(() => undefined)));
  }

  forgetGroup(g: GroupLike): void {
    const i = this.groups.indexOf(g);
    if (i >= 0) this.groups.splice(i, 1);
  }
}

/** The pid of an actor's process. */
export async function pidOf(handle: unknown): Promise<number> {
  if (!core.actorStats) throw new Error("core does not export actorStats(handle) (needed to find an actor's pid)");
  return (await core.actorStats(handle)).pid;
}

/** SIGKILL an actor's process (a crash, not a polite kill()). */
export async function crash(handle: unknown): Promise<number> {
  const pid = await pidOf(handle);
  process.kill(pid, 'SIGKILL');
  return pid;
}

/** Whether the driver sees `handle`'s actor as dead (its stats fail with ActorDiedError) within `ms`. */
export function deathNoticed(handle: unknown, ms: number): Promise<boolean> {
  const stats = core.actorStats;
  if (!stats) throw new Error("core does not export actorStats(handle) (needed to see an actor's death)");
  return eventually(async () => {
    try {
      await stats.call(core, handle);
      return false;
    } catch (e) {
      return e instanceof core.ActorDiedError;
    }
  }, ms);
}

/** Poll `check` until it returns true or `ms` pass. */
export async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}
