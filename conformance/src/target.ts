/**
 * Which transport the suite runs on: a module specifier or path of a transport package. Importing
 * it registers the plugin with core's `registerTransport`; peer processes and actors import the
 * same module, so the suite never needs the plugin object itself to cross a process boundary.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listTransports, registeredTransports, type TransportPlugin } from '@tensorwire/core';
import { enclosingPackageDir, packageEntry, packageName } from './package-entry';

/** A transport package: `'@tensorwire/gloo'`, `'./dist/index.js'`, `'/abs/path/plugin.js'`, or with details. */
export type ConformanceTarget =
  | string
  | {
      /** Module specifier or path (relative to `cwd`) that registers the transport when imported. */
      readonly module: string;
      /** The transport's name, when the module registers several (or was imported before). */
      readonly name?: string;
    };

export interface ResolvedTarget {
  /** Absolute path of the module, loadable from any process. */
  readonly module: string;
  readonly name: string;
  readonly plugin: TransportPlugin;
}

function isPathLike(spec: string): boolean {
  return spec.startsWith('.') || path.isAbsolute(spec);
}

/**
 * Resolve a specifier the way the user means it: paths from `cwd` (a package directory, `.`
 * included, stands for the module its name exports), the name of the package `cwd` is in as
 * that package, other packages from `cwd` first.
 */
export function resolveModulePath(spec: string, cwd = process.cwd()): string {
  if (isPathLike(spec)) {
    const p = path.resolve(cwd, spec);
    return fs.existsSync(path.join(p, 'package.json')) ? packageEntry(p) : require.resolve(p);
  }
  const own = enclosingPackageDir(cwd);
  if (own && packageName(own) === spec) return packageEntry(own);
  return require.resolve(spec, { paths: [cwd, __dirname] });
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

function looksLikePlugin(v: unknown): v is TransportPlugin {
  const p = v as TransportPlugin | undefined;
  return !!p && typeof p.name === 'string' && typeof p.createEndpoint === 'function' && typeof p.probe === 'function' && !!p.supports;
}

function packageTransportName(modulePath: string): string | undefined {
  let dir = path.dirname(modulePath);
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        const name = JSON.parse(fs.readFileSync(pj, 'utf8'))?.tensorwire?.transport;
        if (typeof name === 'string') return name;
      } catch {
        /* not our business */
      }
      return undefined;
    }
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * Import the target module in this process and find the plugin it registered.
 * Throws an Error that says what to fix when the module cannot be found or registers nothing.
 */
export function loadTarget(target: ConformanceTarget, cwd = process.cwd()): ResolvedTarget {
  const spec = typeof target === 'string' ? target : target.module;
  let modulePath: string;
  try {
    modulePath = resolveModulePath(spec, cwd);
  } catch (e) {
    throw new Error(
      `cannot find the transport module '${spec}' from ${cwd}: ${(e as Error).message}. ` +
        "Give a package name installed there, '.' or the name of the package you are in, or a path to the built module (e.g. ./dist/index.js).",
    );
  }
  const before = new Set(registeredTransports());
  let exported: unknown;
  try {
    exported = require(modulePath);
  } catch (e) {
    throw new Error(`importing the transport module ${modulePath} failed: ${(e as Error).stack ?? e}`);
  }
  const added = registeredTransports().filter((n) => !before.has(n));

  const candidates: string[] = [];
  if (typeof target !== 'string' && target.name) candidates.push(target.name);
  if (added.length === 1) candidates.push(added[0]);
  const real = realpath(modulePath);
  for (const t of listTransports()) if (realpath(t.module) === real) candidates.push(t.plugin.name);
  const exp = exported as Record<string, unknown> | undefined;
  for (const v of [exp, exp?.default, exp?.plugin, ...Object.values(exp ?? {})]) {
    if (looksLikePlugin(v)) candidates.push(v.name);
  }
  const fromPackage = packageTransportName(modulePath);
  if (fromPackage) candidates.push(fromPackage);

  const registered = new Set(registeredTransports());
  const name = candidates.find((n) => registered.has(n));
  if (!name) {
    throw new Error(
      `the module ${modulePath} did not register a tensor transport. A transport package must call ` +
        "registerTransport(plugin, { module: __filename }) from '@tensorwire/core' when imported " +
        `(registered here: ${[...registered].join(', ') || 'none'}; the suite and the package must share one '@tensorwire/core').`,
    );
  }
  const plugin = listTransports().find((t) => t.plugin.name === name)!.plugin;
  return { module: modulePath, name, plugin };
}
