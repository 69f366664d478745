import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * A package that declares a tensor transport (`"tensorwire": { "transport": "gloo" }`) or a device
 * backend (`"tensorwire": { "device": "cuda" }`) in its package.json.
 */
export interface TransportPackage {
  /** Package name, e.g. '@tensorwire/gloo'. */
  readonly name: string;
  readonly version: string;
  /** Real path of the package directory (what the probe child `require`s). */
  readonly dir: string;
  /** Transport names the package declares (usually one; may be empty for a device package). */
  readonly transports: readonly string[];
  /** Device kinds whose backend the package registers, e.g. ['cuda'] (usually empty). */
  readonly devices: readonly string[];
}

interface PackageJson {
  name?: unknown;
  version?: unknown;
  workspaces?: unknown;
  tensorwire?: { transport?: unknown; device?: unknown };
}

function readPackageJson(dir: string): PackageJson | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
}

/** A "tensorwire" field's list: a string or an array of strings. */
function names(field: unknown): string[] {
  const list = typeof field === 'string' ? [field] : Array.isArray(field) ? field : [];
  return list.filter((n): n is string => typeof n === 'string' && n.length > 0);
}

function subdirectories(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && !e.name.startsWith('.'))
      .map((e) => path.join(dir, e.name))
      .sort();
  } catch {
    return [];
  }
}

/** The `node_modules` directories Node searches from `cwd`: cwd/node_modules, then each parent's. */
function nodeModulesChain(cwd: string): string[] {
  const dirs: string[] = [];
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (path.basename(dir) !== 'node_modules') dirs.push(path.join(dir, 'node_modules'));
    if (path.dirname(dir) === dir) return dirs;
  }
}

/** Top-level packages of one node_modules directory, scoped ones (`@scope/name`) included. */
function packagesIn(nodeModules: string): string[] {
  const out: string[] = [];
  for (const entry of subdirectories(nodeModules)) {
    if (path.basename(entry).startsWith('@')) out.push(...subdirectories(entry));
    else out.push(entry);
  }
  return out;
}

/** Directories of the npm workspaces of the nearest enclosing monorepo (root package.json with "workspaces"). */
function workspaceDirs(cwd: string): string[] {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const pkg = readPackageJson(dir);
    const ws = pkg?.workspaces;
    const patterns = Array.isArray(ws) ? ws : Array.isArray((ws as { packages?: unknown })?.packages) ? (ws as { packages: unknown[] }).packages : undefined;
    if (patterns) return patterns.filter((p): p is string => typeof p === 'string').flatMap((p) => expandPattern(dir, p));
    if (path.dirname(dir) === dir) return [];
  }
}

/** Expands a workspace pattern: literal segments and `*` within a segment (what npm workspaces use in practice). */
function expandPattern(root: string, pattern: string): string[] {
  let dirs = [root];
  for (const segment of pattern.split('/').filter(Boolean)) {
    if (!segment.includes('*')) {
      dirs = dirs.map((d) => path.join(d, segment));
      continue;
    }
    const re = new RegExp('^' + segment.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*') + '$');
    dirs = dirs.flatMap((d) => subdirectories(d).filter((s) => re.test(path.basename(s))));
  }
  return dirs;
}

/**
 * Finds the transport and device packages that code running in `cwd` can load: the top-level packages of
 * every node_modules directory Node would search from `cwd` (scoped ones included), plus the
 * workspace packages when `cwd` is inside a monorepo. Each package is listed once (by real
 * path), nearest first, sorted by transport name.
 */
export function findTransportPackages(cwd: string): TransportPackage[] {
  const candidates = [...nodeModulesChain(cwd).flatMap(packagesIn), ...workspaceDirs(cwd)];
  const seenDirs = new Set<string>();
  const seenNames = new Set<string>();
  const found: TransportPackage[] = [];
  for (const candidate of candidates) {
    let dir: string;
    try {
      dir = fs.realpathSync(candidate);
    } catch {
      continue; // dangling symlink
    }
    if (seenDirs.has(dir)) continue;
    seenDirs.add(dir);
    const pkg = readPackageJson(dir);
    if (!pkg || typeof pkg.name !== 'string') continue;
    const transports = names(pkg.tensorwire?.transport);
    const devices = names(pkg.tensorwire?.device);
    // A nearer copy of the same package shadows farther ones, as in Node's resolution.
    if ((transports.length === 0 && devices.length === 0) || seenNames.has(pkg.name)) continue;
    seenNames.add(pkg.name);
    found.push({ name: pkg.name, version: typeof pkg.version === 'string' ? pkg.version : '?', dir, transports, devices });
  }
  const key = (p: TransportPackage): string => p.transports[0] ?? p.devices[0] ?? '';
  return found.sort((a, b) => key(a).localeCompare(key(b)) || a.name.localeCompare(b.name));
}
