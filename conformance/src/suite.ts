import type { TestFn } from 'ava';
import { registerErrorContractTests } from './endpoint/error-contract.tests';
import { registerOneSidedTests } from './endpoint/one-sided.tests';
import { prepareCuda, type CudaSetup } from './cuda-setup';
import { probeInChild } from './endpoint/probe';
import { registerTwoSidedTests } from './endpoint/two-sided.tests';
import { effectiveOptions, type ConformanceOptions } from './options';
import { Registrar } from './registrar';
import { registerSystemTests } from './system/system.tests';
import { loadTarget, type ConformanceTarget, type ResolvedTarget } from './target';

/** What {@link registerConformanceSuite} found and registered. */
export interface ConformancePlan {
  /** The transport's name, or undefined when its module could not be loaded. */
  readonly transport?: string;
  /** Absolute path of the module under test. */
  readonly module?: string;
  readonly available: boolean;
  /** Titles of the registered tests (skipped ones included). */
  readonly tests: readonly string[];
}

/**
 * Register the tensorwire transport conformance suite on an ava `test` function.
 *
 * Tests are picked from the plugin's static `supports`: two-sided tests (groups, send/recv) or
 * one-sided tests (register/read/release), per device, then system-level tests through the
 * runtime. Tests that do not apply are listed as skipped with the reason. If the transport's
 * `probe()` says it cannot run here, one failing test says why and how to fix it (or, with
 * `skipUnavailable`, the suite is skipped).
 *
 * @example
 * ```ts
 * // test/conformance.test.ts of a transport package, compiled to .js and run by ava
 * import test from 'ava';
 * import { registerConformanceSuite } from '@tensorwire/conformance';
 * registerConformanceSuite(test, require.resolve('../dist/index.js'));
 * ```
 * @param test ava's default export (tests are registered serially on it).
 * @param target the transport module (specifier or path) that registers the plugin when imported.
 */
export function registerConformanceSuite(
  test: TestFn<any>,
  target: ConformanceTarget,
  options: ConformanceOptions = {},
): ConformancePlan {
  const opts = effectiveOptions(options);
  const titles: string[] = [];
  const recording = new Proxy(test, {
    get(obj, prop) {
      if (prop !== 'serial') return Reflect.get(obj, prop);
      const serial = obj.serial;
      const wrap = (f: (title: string, ...rest: any[]) => void) => (title: string, ...rest: any[]) => {
        titles.push(title);
        f(title, ...rest);
      };
      return Object.assign(wrap(serial.bind(obj)), { skip: wrap(serial.skip.bind(serial)) });
    },
  }) as TestFn<any>;

  let resolved: ResolvedTarget;
  try {
    resolved = loadTarget(target, opts.cwd);
  } catch (e) {
    const spec = typeof target === 'string' ? target : target.module;
    new Registrar(recording, `[${spec}] `).fail('load the transport module', (e as Error).message);
    return { available: false, tests: titles };
  }
  const { plugin, name } = resolved;
  const r = new Registrar(recording, options.titlePrefix ?? `[${name}] `);
  const supports = plugin.supports;
  const wanted = opts.devices ?? supports.devices;
  // Before the probe: it (and every process the suite starts) must see the CUDA driver chosen.
  const cuda = supports.devices.includes('cuda') && wanted.includes('cuda') ? prepareCuda(opts, resolved.module) : undefined;

  r.test('the plugin declares a name, static supports, probe() and createEndpoint()', (t) => {
    t.is(typeof plugin.name, 'string');
    t.true(Array.isArray(supports.devices) && supports.devices.length > 0, 'supports.devices lists at least one device');
    for (const dev of supports.devices) t.true(dev === 'cpu' || dev === 'cuda', `unknown device '${dev}' in supports.devices`);
    t.true(plugin.kind === 'one-sided' || plugin.kind === 'two-sided', `kind is 'one-sided' (register/read) or 'two-sided' (groups, send/recv), got ${String(plugin.kind)}`);
    t.is(typeof plugin.probe, 'function');
    t.is(typeof plugin.createEndpoint, 'function');
    t.log(`module ${resolved.module}; kind ${plugin.kind}; supports ${JSON.stringify(supports)}`);
  });

  const availability = probeInChild(resolved.module, name);
  if (!availability.available) {
    const why = `probe() says '${name}' cannot run here: ${availability.detail}` + (availability.fix ? `. Fix: ${availability.fix}` : '');
    if (opts.skipUnavailable) r.skip('the whole suite', why);
    else r.fail('probe() reports the transport available on this machine', why);
    return { transport: name, module: resolved.module, available: false, tests: titles };
  }
  r.test('probe() reports the transport available on this machine', (t) => {
    t.log(availability.detail);
    t.pass();
  });

  for (const device of ['cpu', 'cuda'] as const) {
    if (!opts.levels.includes('endpoint')) break;
    if (!supports.devices.includes(device)) {
      r.skip(`endpoint/${device}: all tests`, `supports.devices is [${supports.devices.join(', ')}]`);
      continue;
    }
    if (!wanted.includes(device)) {
      r.skip(`endpoint/${device}: all tests`, `not in options.devices`);
      continue;
    }
    if (device === 'cuda' && !cudaReady(r, 'endpoint/cuda', cuda!, opts.skipUnavailable)) continue;
    const ctx = { target: resolved, options: opts, device };
    if (plugin.kind === 'one-sided') registerOneSidedTests(r, ctx);
    else registerTwoSidedTests(r, ctx);
    registerErrorContractTests(r, ctx);
  }

  if (opts.levels.includes('system')) {
    const devices = (['cpu', 'cuda'] as const).filter((dev) => supports.devices.includes(dev) && wanted.includes(dev));
    const ready = devices.filter((dev) => dev === 'cpu' || cudaReady(r, 'system/cuda', cuda!, opts.skipUnavailable, !opts.levels.includes('endpoint')));
    registerSystemTests(r, { target: resolved, options: opts, devices: ready });
  }
  return { transport: name, module: resolved.module, available: true, tests: titles };
}

/**
 * Whether the CUDA variant at `level` can run; if not, its tests are one skipped entry
 * (@tensorwire/cuda not installed, or CUDA unavailable with skipUnavailable) or one failing test
 * saying why. `announce`: log the setup in a test of its own (once per run).
 */
function cudaReady(r: Registrar, level: string, cuda: CudaSetup, skipUnavailable: boolean, announce = level.startsWith('endpoint')): boolean {
  if (cuda.ready) {
    if (announce) {
      r.test(`${level}: CUDA test tensors on cuda:0 of every process`, (t) => {
        t.log(cuda.detail);
        t.pass();
      });
    }
    return true;
  }
  if (cuda.missing || skipUnavailable) r.skip(`${level}: all tests`, cuda.reason);
  else r.fail(`${level}: CUDA can be used for the CUDA variants`, cuda.reason);
  return false;
}
