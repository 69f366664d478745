/**
 * A process with no CUDA driver (TENSORWIRE_LIBCUDA names a missing file, and the mock is not
 * used): every CUDA entry point fails with DeviceUnavailableError (a TransportUnavailableError)
 * naming what is missing and the fix, and everything else (CPU tensors, actors) still works.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import {
  DeviceUnavailableError, InvalidArgumentError, Tensor, TransportUnavailableError, actorStats, get, init, kill, shutdown, spawn,
} from '@tensorwire/core';
import * as cuda from './index';
import * as internal from './internal';
import { mock } from './testing';
import { CudaWorker } from './test/fixtures/cuda-actors';

const MISSING = '/nonexistent/libcuda-missing.so.1';
process.env.TENSORWIRE_LIBCUDA = MISSING; // before the first CUDA use, which opens the driver

function expectUnavailable(t: import('ava').ExecutionContext, f: () => unknown, what: string): void {
  const err = t.throws(f, { instanceOf: TransportUnavailableError }, what);
  t.true(err instanceof DeviceUnavailableError, what);
  t.is((err as DeviceUnavailableError).code, 'TRANSPORT_UNAVAILABLE');
  t.regex(err!.message, new RegExp(`^CUDA is not available here: TENSORWIRE_LIBCUDA=${MISSING} could not be loaded`), what);
  t.regex(err!.message, /Fix: point TENSORWIRE_LIBCUDA at a CUDA driver library \(libcuda\.so\.1\) or at the mock driver, or unset it/, what);
}

test('every CUDA entry point of core and of this package fails with the typed, actionable error', async (t) => {
  const cpu = Tensor.arange(4);
  const sync: Record<string, () => unknown> = {
    'Tensor.zeros': () => Tensor.zeros([2], { device: 'cuda' }),
    'Tensor.ones': () => Tensor.ones([2], { device: 'cuda:0' }),
    'Tensor.full': () => Tensor.full([2], 1, { device: 'cuda:1' }),
    'Tensor.empty': () => Tensor.empty([2], 'int64', { device: 'cuda' }),
    'Tensor.randn': () => Tensor.randn([2], { device: 'cuda' }),
    'Tensor.arange': () => Tensor.arange(3, undefined, 1, { device: 'cuda' }),
    'new Tensor': () => new Tensor(new Float32Array(2), [2], { device: 'cuda' }),
    'Tensor.fromDevicePointer': () => Tensor.fromDevicePointer(0x1000n, [1], 'float32', { device: 'cuda' }),
    '.cuda()': () => cpu.cuda(),
    ".to('cuda:1')": () => cpu.to('cuda:1'),
    deviceCount: () => cuda.deviceCount(),
    driverVersion: () => cuda.driverVersion(),
    "memoryStats('cuda:0')": () => cuda.memoryStats('cuda:0'),
    "emptyCache('cuda:0')": () => cuda.emptyCache('cuda:0'),
    'new Stream': () => new cuda.Stream(0),
    'internal: new Event': () => new internal.Event(0, { interprocess: true }),
    'internal: ipcMemHandle': () => internal.ipcMemHandle(0, 0x1000n),
    'internal: openIpcMemHandle': () => internal.openIpcMemHandle(0, Buffer.alloc(64)),
    'internal: allocationOf': () => internal.allocationOf({ deviceIndex: 0, devicePtr: 0x1000n }),
    'testing: mock.stats': () => mock.stats(),
  };
  for (const [what, f] of Object.entries(sync)) expectUnavailable(t, f, what);
  for (const [what, f] of Object.entries({
    toAsync: () => cpu.toAsync('cuda'),
    cudaAsync: () => cpu.cudaAsync(1),
    synchronize: () => cuda.synchronize(0),
    'internal: copyHostToDevice': () => internal.copyHostToDevice({ device: 0, ptr: 0x1000n }, new Uint8Array(4)),
  })) {
    let thrown: unknown;
    try {
      await f();
    } catch (err) {
      thrown = err;
    }
    expectUnavailable(t, () => {
      throw thrown;
    }, what);
  }
});

test('what needs no device answers: isAvailable, availability, memoryStats() and emptyCache() of nothing', async (t) => {
  t.false(cuda.isAvailable());
  const a = await cuda.availability();
  t.false(a.available);
  t.regex(a.detail, /TENSORWIRE_LIBCUDA=\/nonexistent\/libcuda-missing\.so\.1 could not be loaded/);
  t.regex(a.fix ?? '', /point TENSORWIRE_LIBCUDA/);
  t.deepEqual(a.devices, []);
  t.deepEqual(cuda.memoryStats(), []);
  t.notThrows(() => cuda.emptyCache());
  t.is(cuda.driverLibraryPath(), MISSING);
});

test('CPU tensors keep working', (t) => {
  const a = Tensor.arange(5, undefined, 1, { dtype: 'int32' });
  t.is(a.sum(), 10);
  t.is(a.cpu(), a);
  t.true(a.clone().add(1).equals(Tensor.arange(1, 6, 1, { dtype: 'int32' })));
  t.deepEqual(Tensor.zeros([2]).toArray(), [0, 0]);
});

test.serial('actors: CPU work goes on; numGpus is refused naming why there is no GPU', async (t) => {
  await init();
  t.teardown(() => shutdown());
  const a = await spawn(CudaWorker);
  t.is(await get(a.describe.remote(Tensor.ones([3]))).then((d) => d.sum), 3);
  t.deepEqual((await actorStats(a)).deviceMemory, []);
  await t.throwsAsync(get(a.arange.remote(3, 'float32')), { message: /CUDA is not available here: TENSORWIRE_LIBCUDA=/ });
  await kill(a);
  const err = await t.throwsAsync(spawn(CudaWorker, { numGpus: 1 }), { instanceOf: InvalidArgumentError });
  t.regex(err!.message, /numGpus: 1 needs a GPU, and this machine has none that tensorwire can use \(CUDA is not available here: TENSORWIRE_LIBCUDA=/);
});

/** Runs a script in a fresh process with `env` changes (undefined removes a variable); returns its stdout. */
function runChild(script: string, env: Record<string, string | undefined>): string {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = v;
  }
  return execFileSync(process.execPath, ['-e', script], { env: childEnv, encoding: 'utf8', cwd: path.join(__dirname, '..') });
}

const REPORT = `
const { Tensor } = require('@tensorwire/core');
require('./dist/index.js');
try { Tensor.zeros([1], { device: 'cuda' }); console.log(JSON.stringify({ ok: true })); }
catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message })); }`;

test('without TENSORWIRE_LIBCUDA and no NVIDIA driver: the fix names the driver and the mock', (t) => {
  const out = JSON.parse(runChild(REPORT, { TENSORWIRE_LIBCUDA: undefined })) as { ok?: boolean; name?: string; message?: string };
  if (out.ok) {
    t.pass('this machine has a CUDA driver: nothing to check');
    return;
  }
  t.is(out.name, 'DeviceUnavailableError');
  t.regex(out.message!, /^CUDA is not available here: the CUDA driver library libcuda\.so\.1 could not be loaded \(.*\): no NVIDIA driver is installed/);
  t.regex(out.message!, /install the NVIDIA driver .*TENSORWIRE_LIBCUDA to the mock driver \(require\('@tensorwire\/cuda\/testing'\)\.mockLibraryPath\)/);
});

test('a missing addon is reported with the build command, not "Cannot find module"', (t) => {
  const out = JSON.parse(runChild(REPORT, { TENSORWIRE_CUDA_ADDON: '/nonexistent/tensorwire_cuda.node' })) as { name: string; message: string };
  t.is(out.name, 'DeviceUnavailableError');
  t.regex(out.message, /the native addon of @tensorwire\/cuda was not built \(\/nonexistent\/tensorwire_cuda\.node is missing\)\. Fix: build it: npm run build -w @tensorwire\/cuda/);
});

test('a driver without devices (cuInit: CUDA_ERROR_NO_DEVICE) names CUDA_VISIBLE_DEVICES when it hides them', (t) => {
  const { mockLibraryPath } = require('./testing') as typeof import('./testing');
  const out = JSON.parse(runChild(REPORT, { TENSORWIRE_LIBCUDA: mockLibraryPath, CUDA_VISIBLE_DEVICES: '' })) as { message: string };
  t.regex(out.message, /no CUDA device is visible: cuInit failed: CUDA_ERROR_NO_DEVICE \(no CUDA-capable device is detected\)\. Fix: CUDA_VISIBLE_DEVICES="" hides every GPU/);
});
