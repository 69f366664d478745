/** `init` and `shutdown`: build the driver runtime from a DI container, and tear it down. */
import 'reflect-metadata';
import { container as rootContainer } from 'tsyringe';
import { ChildProcessLauncher, type Launcher } from '../driver/launcher';
import { defaultLauncher, launcherByName } from '../driver/launcher-registry';
import * as path from 'node:path';
import { didYouMean } from '../errors/did-you-mean';
import { InvalidArgumentError, PUBLISHED_TRANSPORT_PACKAGES, RuntimeStateError } from '../errors/errors';
import { MemoryObjectStore } from '../objects/object-store';
import { OutOfBandSerializer } from '../objects/serializer';
import { currentContext, isActorProcess, setContext } from '../runtime/context';
import { ConsoleLogger, systemClock } from '../log/logger';
import { resolveOptions, type RuntimeOptions } from '../runtime/options';
import { Runtime } from '../driver/runtime';
import { TOKENS } from '../runtime/tokens';
import { checkDurationMs } from '../runtime/validate';

let runtime: Runtime | null = null;

/**
 * Start the tensorwire runtime in this process (the driver). Transport packages imported
 * before (e.g. `import '@tensorwire/gloo'`) or named in `options.transports` are loaded here
 * and in every actor process.
 *
 * Inside an actor process `init()` never settles: an actor process imports the module that
 * defines its class, and when that module is the driver's script, the code after `init()`
 * must not run there. The code before it does run, once per actor: keep actor classes in a
 * module of their own, or guard such code with `isActorProcess()`.
 *
 * @example
 * ```ts
 * import '@tensorwire/gloo';
 * await init();
 * ```
 */
export async function init(options: RuntimeOptions = {}): Promise<Runtime> {
  if (isActorProcess()) {
    // An actor process imported the driver's main module to load an actor class defined in it:
    // the driver code after init() must not run here.
    return new Promise<Runtime>(() => {});
  }
  if (runtime) throw new RuntimeStateError('tensorwire is already initialized in this process; call shutdown() before init() again');
  const resolved = resolveOptions(options);
  for (const m of resolved.transports) loadTransportModule(m);
  const c = rootContainer.createChildContainer();
  c.register(TOKENS.ObjectStore, { useClass: MemoryObjectStore });
  const launcher = chooseLauncher(resolved.launcher);
  if (launcher) c.register(TOKENS.Launcher, { useValue: launcher });
  else c.register(TOKENS.Launcher, { useClass: ChildProcessLauncher });
  c.register(TOKENS.Serializer, { useClass: OutOfBandSerializer });
  c.register(TOKENS.Logger, { useValue: new ConsoleLogger() });
  c.register(TOKENS.Clock, { useValue: systemClock });
  c.register(TOKENS.Options, { useValue: resolved });
  for (const p of options.providers ?? []) c.register(p.token, p as never);
  const rt = c.resolve(Runtime);
  await rt.start();
  runtime = rt;
  setContext(rt);
  return rt;
}

/** init's launcher: the one named or given, else one a launcher package claims here; undefined: local child processes. */
function chooseLauncher(option: string | Launcher | undefined): Launcher | undefined {
  if (typeof option === 'string') return launcherByName(option, (m) => require(require.resolve(m, { paths: [process.cwd(), __dirname] })));
  return option ?? defaultLauncher();
}

/** Load a module named in `init({ transports })`; failures become typed errors that say what to do. */
function loadTransportModule(name: unknown): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentError(`init: transports must list module names or paths, e.g. ['@tensorwire/gloo'], got ${JSON.stringify(name)}`);
  }
  let file: string;
  try {
    file = require.resolve(name, { paths: [process.cwd(), __dirname] });
  } catch (err) {
    throw new InvalidArgumentError(`init: transport module '${name}' was not found (looked from ${process.cwd()}); ${missingModuleHint(name)}`, { cause: err });
  }
  try {
    require(file);
  } catch (err) {
    throw new InvalidArgumentError(`init: transport module '${name}' failed to load: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}

/**
 * What to do about a transport module that is not installed. Only packages that exist are
 * suggested for `npm install`: the project's own, or the very name the user gave when it is a
 * third party's; a misspelt project package gets the right name.
 */
function missingModuleHint(name: string): string {
  if (name.startsWith('.') || path.isAbsolute(name)) return 'check the path (relative paths are resolved from the working directory)';
  const published = Object.values(PUBLISHED_TRANSPORT_PACKAGES);
  const packageName = name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]!;
  if (published.includes(packageName)) return `install it: \`npm install ${packageName}\``;
  const meant = didYouMean(packageName, published);
  if (meant) return `did you mean '${meant}'? (\`npm install ${meant}\`)`;
  if (packageName.startsWith('@tensorwire/')) {
    return `no package of that name is published; the project's transports are ${published.join(', ')}, or give the path of your own transport module`;
  }
  return `install the package that provides it (\`npm install ${packageName}\`) or give an absolute path`;
}

/** Options of {@link shutdown}. */
export interface ShutdownOptions {
  /**
   * How long actors may take to finish what they are doing and exit on their own, in ms
   * (default 5000). Actors still running then (a long call, a synchronous loop) are killed.
   * 0 kills every actor at once.
   */
  graceMs?: number;
}

/**
 * Stop every actor process and release everything; afterwards Node can exit. Calls still in
 * flight fail with RuntimeStateError. Each actor is asked to exit and given `graceMs` (5 s by
 * default) to do so; a busy one is then killed, so shutdown can take that long. Safe to call twice.
 *
 * @example
 * ```ts
 * await shutdown();                  // waits up to 5 s for busy actors
 * await shutdown({ graceMs: 0 });    // kills them at once
 * ```
 */
export async function shutdown(options: ShutdownOptions = {}): Promise<void> {
  const graceMs = checkDurationMs('shutdown: graceMs', (options ?? {}).graceMs, 0);
  const rt = runtime;
  runtime = null;
  if (!rt) return;
  if (currentContext() === rt) setContext(null);
  await rt.shutdown(graceMs);
}

/** The driver runtime of this process (throws when not initialized). */
export function driverRuntime(what: string): Runtime {
  if (!runtime) {
    throw new RuntimeStateError(
      isActorProcess() ? `${what} is only available in the driver, not inside an actor` : `${what} needs \`await init()\` first`,
    );
  }
  return runtime;
}

/** Whether `init()` has run (and `shutdown()` has not). */
export function isInitialized(): boolean {
  return runtime !== null;
}
