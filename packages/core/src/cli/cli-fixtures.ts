/**
 * Test fixtures for the CLI tests: throw-away project directories whose node_modules hold fake
 * transport packages, and a helper that runs the compiled CLI as a child process.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The compiled CLI (this file compiles to dist/cli/, next to main.js). */
export const MAIN_JS = path.join(__dirname, 'main.js');
/** packages/core: fake plugins resolve @tensorwire/core to it, like a real install. */
const CORE_DIR = path.resolve(__dirname, '..', '..');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node dist/cli/main.js ...args` in `cwd`. */
export function runCli(args: readonly string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN_JS, ...args], { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A fake package: its package.json fields and the source of its index.js. */
export interface FakePackage {
  readonly name: string;
  /** The `tensorwire.transport` field; omitted: an ordinary package. */
  readonly transport?: string;
  /** The `tensorwire.device` field (a device backend package). */
  readonly device?: string;
  readonly index: string;
}

/** index.js source of a plugin that registers `name` with the given probe body. */
export function pluginSource(name: string, probeBody: string): string {
  return `
const { registerTransport } = require('@tensorwire/core/spi');
registerTransport({
  name: ${JSON.stringify(name)},
  kind: 'two-sided',
  supports: { devices: ['cpu'] },
  async probe() { ${probeBody} },
  async createEndpoint() { throw new Error('not used in doctor tests'); },
}, { module: __filename });
`;
}

/** index.js source of a package that registers a 'cuda' device backend with the given probe body. */
export function deviceBackendSource(probeBody: string): string {
  return `
const { registerDeviceBackend } = require('@tensorwire/core/spi');
registerDeviceBackend('cuda', {
  deviceCount() { return 1; },
  allocate() { throw new Error('not used in doctor tests'); },
  copyFromHost() {},
  copyToHost() {},
  async probe() { ${probeBody} },
});
`;
}

/** Creates a project directory whose node_modules holds `packages` (and @tensorwire/core). */
export function makeProject(packages: readonly FakePackage[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tensorwire-doctor-'));
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'doctor-fixture', private: true }));
  addPackages(root, packages);
  return root;
}

/** Adds packages (and a link to @tensorwire/core) under `dir`/node_modules. */
export function addPackages(dir: string, packages: readonly FakePackage[]): void {
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(path.join(modules, '@tensorwire'), { recursive: true });
  const coreLink = path.join(modules, '@tensorwire', 'core');
  if (!fs.existsSync(coreLink)) fs.symlinkSync(CORE_DIR, coreLink, 'dir');
  for (const p of packages) {
    const pkgDir = path.join(modules, ...p.name.split('/'));
    fs.mkdirSync(pkgDir, { recursive: true });
    const tensorwire = { ...(p.transport ? { transport: p.transport } : {}), ...(p.device ? { device: p.device } : {}) };
    const json = { name: p.name, version: '1.2.3', main: 'index.js', ...(Object.keys(tensorwire).length ? { tensorwire } : {}) };
    fs.writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify(json, null, 2));
    fs.writeFileSync(path.join(pkgDir, 'index.js'), p.index);
  }
}

export function removeProject(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
