/**
 * Launchers by name, for `init({ launcher: 'slurm' })`: a launcher package registers itself
 * when imported, and may claim to be the default where it applies (the Slurm launcher inside a
 * Slurm allocation), so that importing it is all a driver script needs.
 */
import { didYouMean } from '../errors/did-you-mean';
import { InvalidArgumentError } from '../errors/errors';
import type { Launcher } from './launcher';

/** What a launcher package registers. */
export interface LauncherRegistration {
  /** Make the launcher for one `init` (may throw a typed error saying what is missing). */
  create(): Launcher;
  /**
   * Whether this launcher should be used when `init` names none (e.g. the process runs inside
   * a Slurm allocation). Asked at each `init`; the first registered that says yes wins.
   */
  isDefault?(): boolean;
}

const registry = new Map<string, LauncherRegistration>();

/** Launcher names core knows the package of, so `init({ launcher })` can load it itself. */
const KNOWN_PACKAGES: Readonly<Record<string, string>> = { slurm: '@tensorwire/slurm' };

/**
 * Register a launcher under `name` (a launcher package does this when imported).
 *
 * @example
 * ```ts
 * import { registerLauncher } from '@tensorwire/core/spi';
 * registerLauncher('k8s', { create: () => new PodLauncher(), isDefault: () => !!process.env.KUBERNETES_SERVICE_HOST });
 * ```
 */
export function registerLauncher(name: string, registration: LauncherRegistration): void {
  if (typeof name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new InvalidArgumentError(`registerLauncher: a launcher name is lower-case letters, digits and '-', got ${JSON.stringify(name)}`);
  }
  registry.set(name, registration);
}

/** The names registered so far. */
export function registeredLaunchers(): string[] {
  return [...registry.keys()];
}

/**
 * The launcher named `name`, loading its package first when core knows it and it is not
 * registered yet. `load` requires a module (injected: it resolves from the user's directory).
 */
export function launcherByName(name: string, load: (module: string) => void): Launcher {
  let reg = registry.get(name);
  const pkg = KNOWN_PACKAGES[name];
  if (!reg && pkg) {
    try {
      load(pkg);
    } catch (err) {
      throw new InvalidArgumentError(`init: the '${name}' launcher is in ${pkg}, which did not load: ${(err as Error).message}. Install it: \`npm install ${pkg}\``, { cause: err });
    }
    reg = registry.get(name);
  }
  if (!reg) {
    const known = [...new Set([...registry.keys(), ...Object.keys(KNOWN_PACKAGES)])];
    const meant = didYouMean(name, known);
    throw new InvalidArgumentError(
      `init: no launcher named '${name}'${meant ? `; did you mean '${meant}'?` : ''} (known: ${known.join(', ')}). ` +
        'Import the package that registers it, or pass a Launcher object',
    );
  }
  return reg.create();
}

/** The launcher a registered package claims for this process (see `isDefault`), or undefined. */
export function defaultLauncher(): Launcher | undefined {
  for (const reg of registry.values()) if (reg.isDefault?.()) return reg.create();
  return undefined;
}
