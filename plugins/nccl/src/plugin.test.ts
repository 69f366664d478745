/**
 * The plugin object, probe() with and without NCCL / CUDA (each in a fresh process: a process
 * keeps the libraries it opened first), the NCCL of a Python environment, and the option and
 * dtype parsing.
 */
import { usingMocks } from './test/mocks';
import test from 'ava';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mockLibraryPath as mockCuda } from '@tensorwire/cuda/testing';
import { NCCL_SUPPORTS, ncclPlugin, resolveOptions, resolveReduce, versionString } from './index';
import { mockLibraryPath } from './testing';

const INDEX = path.join(__dirname, 'index.js');

interface Probe {
  available: boolean;
  detail: string;
  fix?: string;
}

/** probe() in a new process with `env` over this one's (undefined removes a variable). */
function probeIn(env: Record<string, string | undefined>): Promise<Probe> {
  const full: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete full[k];
    else full[k] = v;
  }
  const script = `require(${JSON.stringify(INDEX)}).ncclPlugin.probe().then((a) => process.stdout.write(JSON.stringify(a)))`;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['-e', script], { env: full, timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as Probe))),
  );
}

test('the plugin: nccl, two-sided, CUDA tensors, barrier/allreduce/broadcast', (t) => {
  t.is(ncclPlugin.name, 'nccl');
  t.is(ncclPlugin.kind, 'two-sided');
  t.deepEqual(NCCL_SUPPORTS, { devices: ['cuda'], collectives: ['barrier', 'allreduce', 'broadcast'] });
});

test('probe() on the mocks: available, and says it is the mock', async (t) => {
  if (!usingMocks) return t.pass('runs on the mocks only');
  const a = await ncclPlugin.probe();
  t.true(a.available, a.detail);
  t.regex(a.detail, /^NCCL 2\.30\.7 \(.*libtensorwire_mocknccl\.so, the mock NCCL: it proves the code paths, not NCCL or a GPU\), CUDA driver .*libtensorwire_mockcuda\.so$/);
});

test('probe() without NCCL: not available, what is missing and the fix', async (t) => {
  const named = await probeIn({ TENSORWIRE_LIBCUDA: mockCuda, TENSORWIRE_LIBNCCL: '/nonexistent/libnccl.so.2' });
  t.false(named.available);
  t.regex(named.detail, /^TENSORWIRE_LIBNCCL=\/nonexistent\/libnccl\.so\.2 could not be loaded/);
  t.regex(named.fix ?? '', /point TENSORWIRE_LIBNCCL at an NCCL library/);
  const none = await probeIn({ TENSORWIRE_LIBCUDA: mockCuda, TENSORWIRE_LIBNCCL: undefined, VIRTUAL_ENV: undefined, CONDA_PREFIX: undefined, TENSORWIRE_PYTHON: '/nonexistent/python3' });
  t.false(none.available);
  t.regex(none.detail, /libnccl\.so\.2 could not be loaded \(.*\) and no Python environment with NCCL/);
  t.regex(none.fix ?? '', /pip install nvidia-nccl-cu12/);
});

test('probe() without CUDA: not available, CUDA named with its fix', async (t) => {
  const a = await probeIn({ TENSORWIRE_LIBCUDA: '/nonexistent/libcuda.so.1', TENSORWIRE_LIBNCCL: mockLibraryPath });
  t.false(a.available);
  t.regex(a.detail, /^CUDA is not available: TENSORWIRE_LIBCUDA=\/nonexistent\/libcuda\.so\.1 could not be loaded/);
  t.regex(a.fix ?? '', /TENSORWIRE_LIBCUDA/);
});

test("the NCCL of a Python environment (PyTorch's nvidia/nccl/lib) is found when the loader has none", async (t) => {
  const venv = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-nccl-venv-'));
  try {
    const lib = path.join(venv, 'lib', 'python3.11', 'site-packages', 'nvidia', 'nccl', 'lib');
    fs.mkdirSync(lib, { recursive: true });
    fs.copyFileSync(mockLibraryPath, path.join(lib, 'libnccl.so.2'));
    const a = await probeIn({ TENSORWIRE_LIBCUDA: mockCuda, TENSORWIRE_LIBNCCL: undefined, VIRTUAL_ENV: venv, TENSORWIRE_PYTHON: '/nonexistent/python3' });
    t.true(a.available, a.detail);
    t.regex(a.detail, new RegExp(`^NCCL 2\\.30\\.7 \\(${lib.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/libnccl\\.so\\.2, found in a Python environment, the mock NCCL`));
  } finally {
    fs.rmSync(venv, { recursive: true, force: true });
  }
});

test('options: host, device and sharedGpu from transportOptions or the environment, typed errors otherwise', (t) => {
  t.deepEqual(resolveOptions({}), { host: '127.0.0.1', device: 0, sharedGpu: 'auto' });
  t.deepEqual(resolveOptions({ host: '10.0.0.5', device: 1, sharedGpu: 'off' }), { host: '10.0.0.5', device: 1, sharedGpu: 'off' });
  const saved = { ...process.env };
  try {
    process.env.TENSORWIRE_NETWORK_HOST = '10.1.2.3';
    t.like(resolveOptions(undefined), { host: '10.1.2.3' }, "core's network address when actors run on several hosts");
    process.env.TENSORWIRE_NCCL_HOST = '192.168.1.2';
    process.env.TENSORWIRE_NCCL_DEVICE = '1';
    t.like(resolveOptions(undefined), { host: '192.168.1.2', device: 1 });
  } finally {
    if (saved.TENSORWIRE_NETWORK_HOST === undefined) delete process.env.TENSORWIRE_NETWORK_HOST;
    else process.env.TENSORWIRE_NETWORK_HOST = saved.TENSORWIRE_NETWORK_HOST;
    process.env.TENSORWIRE_NCCL_HOST = saved.TENSORWIRE_NCCL_HOST;
    process.env.TENSORWIRE_NCCL_DEVICE = saved.TENSORWIRE_NCCL_DEVICE;
    if (saved.TENSORWIRE_NCCL_HOST === undefined) delete process.env.TENSORWIRE_NCCL_HOST;
    if (saved.TENSORWIRE_NCCL_DEVICE === undefined) delete process.env.TENSORWIRE_NCCL_DEVICE;
  }
  for (const bad of [{ device: -1 }, { device: 'cuda:0' }, { host: 3 }, { sharedGpu: 'yes' }]) {
    const e = t.throws(() => resolveOptions(bad));
    t.is((e as { code?: string }).code, 'NCCL_INVALID_ARGUMENT');
  }
});

test("dtypes: NCCL's names and torch's, bool as or/and, int16 refused with the way out", (t) => {
  t.like(resolveReduce('float', 'sum', 23007), { dtype: 'float32', ncclType: 7, ncclOp: 0, elementSize: 4 });
  t.like(resolveReduce('bfloat16', 'max', 23007), { ncclType: 9, ncclOp: 2, elementSize: 2 });
  t.like(resolveReduce('bool', 'sum', 23007), { ncclType: 1, ncclOp: 2 });
  t.like(resolveReduce('bool', 'prod', 23007), { ncclType: 1, ncclOp: 3 });
  t.like(resolveReduce('float8_e5m2', 'min', 23007), { ncclType: 11, ncclOp: 3, elementSize: 1 });
  t.throws(() => resolveReduce('float8_e5m2', 'min', 22300), { message: /needs a newer NCCL/ });
  t.throws(() => resolveReduce('int16', 'sum', 23007), { message: /NCCL has no 16-bit integer type: reduce it as int32/ });
  t.throws(() => resolveReduce('float32', 'avg', 23007), { message: /unknown op 'avg'/ });
  t.is(versionString(23007), '2.30.7');
  t.is(versionString(2708), '2.7.8');
  t.is(versionString(21403), '2.14.3');
});
