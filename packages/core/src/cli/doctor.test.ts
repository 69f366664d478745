import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { addPackages, deviceBackendSource, MAIN_JS, makeProject, pluginSource, removeProject, runCli } from './cli-fixtures';
import type { DoctorReport } from './doctor';

async function doctorJson(cwd: string, ...extra: string[]): Promise<DoctorReport> {
  const r = await runCli(['doctor', '--json', ...extra], cwd);
  if (r.code !== 0) throw new Error(`doctor exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as DoctorReport;
}

function byName(report: DoctorReport, transport: string) {
  return report.transports.find((t) => t.transport === transport);
}

// One project with a package for each way a transport can turn out (hangs are tested apart,
// so these never wait for a timeout).
const project = makeProject([
  { name: '@acme/tw-okay', transport: 'okay', index: pluginSource('okay', "return { available: true, detail: 'libokay 1.0, TCP' };") },
  {
    name: 'tw-nolib',
    transport: 'nolib',
    index: pluginSource('nolib', "return { available: false, detail: 'libnolib.so.1 not found', fix: 'apt-get install libnolib1' };"),
  },
  { name: 'tw-throws', transport: 'throws', index: pluginSource('throws', "throw new Error('probe exploded');") },
  { name: 'tw-crash', transport: 'crashy', index: pluginSource('crashy', "process.kill(process.pid, 'SIGSEGV'); await new Promise(() => {});") },
  { name: 'tw-broken', transport: 'broken', index: "const e = new Error('cannot open shared object file: libbroken.so'); e.code = 'ERR_FAKE_DLOPEN'; throw e;" },
  { name: 'tw-silent', transport: 'silent', index: '// registers nothing' },
  { name: 'plain-package', index: 'module.exports = 1;' },
]);
test.after.always(() => removeProject(project));

test('doctor --json finds every transport package and reports each outcome', async (t) => {
  const r = await doctorJson(project);
  t.deepEqual(
    r.transports.map((x) => x.transport),
    ['broken', 'crashy', 'nolib', 'okay', 'silent', 'throws'],
  );

  t.like(byName(r, 'okay'), { package: '@acme/tw-okay', version: '1.2.3', available: true, detail: 'libokay 1.0, TCP' });
  t.like(byName(r, 'nolib'), { available: false, detail: 'libnolib.so.1 not found', fix: 'apt-get install libnolib1' });
  t.like(byName(r, 'throws'), { available: false, detail: 'probe() threw: probe exploded' });

  const crashy = byName(r, 'crashy')!;
  t.false(crashy.available);
  t.regex(crashy.detail, /killed by SIGSEGV/);
  t.regex(crashy.fix ?? '', /require\('tw-crash'\)/);

  const broken = byName(r, 'broken')!;
  t.false(broken.available);
  t.regex(broken.detail, /loading the package failed \[ERR_FAKE_DLOPEN\]: cannot open shared object file: libbroken\.so/);
  t.regex(broken.fix ?? '', /npm rebuild tw-broken/);

  t.like(byName(r, 'silent'), { available: false });
  t.regex(byName(r, 'silent')!.detail, /registered no transport named 'silent'/);
});

test('doctor --json reports the machine', async (t) => {
  const r = await doctorJson(project);
  t.is(r.system.node, process.version);
  t.is(r.system.platform, process.platform);
  t.is(r.system.arch, process.arch);
  t.true(r.system.cpus >= 1);
  t.true(r.system.memoryTotalBytes > 0);
  t.is(typeof r.system.os, 'string');
  t.is(typeof r.system.nvidia.driver, 'boolean');
  t.true(Array.isArray(r.system.nvidia.gpus));
  t.regex(r.core, /^\d+\.\d+\.\d+/);
});

test('transport environment variables are reported', (t) => {
  const out = execFileSync(process.execPath, [MAIN_JS, 'doctor', '--json'], {
    cwd: os.tmpdir(),
    env: { ...process.env, UCX_TLS: 'tcp', UNRELATED_VAR: 'x' },
    encoding: 'utf8',
  });
  const report = JSON.parse(out) as DoctorReport;
  t.is(report.system.env['UCX_TLS'], 'tcp');
  t.false('UNRELATED_VAR' in report.system.env);
});

test('the text report has a table with one row per transport and exits 0', async (t) => {
  const r = await runCli(['doctor'], project);
  t.is(r.code, 0);
  t.regex(r.stdout, /^tensorwire doctor/);
  t.regex(r.stdout, /TRANSPORT\s+PACKAGE\s+AVAILABLE\s+DETAIL\s+FIX/);
  t.regex(r.stdout, /okay\s+@acme\/tw-okay@1\.2\.3\s+yes\s+libokay 1\.0, TCP/);
  t.regex(r.stdout, /nolib\s+tw-nolib@1\.2\.3\s+no\s+libnolib\.so\.1 not found\s+apt-get install libnolib1/);
  t.regex(r.stdout, /1 of 6 transport\(s\) available here/);
  t.regex(r.stdout, /node\s+v\d+/);
  t.regex(r.stdout, /nvidia gpu/);
  t.regex(r.stdout, /libcuda/);
});

test('a probe that hangs is killed after --timeout and reported', async (t) => {
  const dir = makeProject([{ name: 'tw-hang', transport: 'hangy', index: pluginSource('hangy', 'setInterval(() => {}, 1000); await new Promise(() => {});') }]);
  t.teardown(() => removeProject(dir));
  const r = await doctorJson(dir, '--timeout', '1500');
  t.like(byName(r, 'hangy'), { available: false, detail: 'loading or probing did not finish within 1500 ms (killed)' });
});

test('no transport package installed is a valid answer (exit 0)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tensorwire-doctor-empty-'));
  t.teardown(() => removeProject(dir));
  const json = await doctorJson(dir);
  t.deepEqual(json.transports, []);
  t.deepEqual(json.devices, []);
  const text = await runCli(['doctor'], dir);
  t.is(text.code, 0);
  t.regex(text.stdout, /none installed/);
  t.regex(text.stdout, /Devices\n  no device backend installed/);
});

test('device backend packages are probed: devices and memory, or why not and the fix', async (t) => {
  const gib = 2 ** 30;
  const ok = makeProject([
    {
      name: 'tw-gpu',
      device: 'cuda',
      index: deviceBackendSource(
        `return { available: true, detail: 'CUDA driver 12.8, 1 device', devices: [{ index: 0, name: 'Fake GPU', totalBytes: ${16 * gib}, freeBytes: ${15 * gib} }] };`,
      ),
    },
  ]);
  const missing = makeProject([
    { name: 'tw-gpu', device: 'cuda', index: deviceBackendSource("return { available: false, detail: 'libcuda.so.1 not found', fix: 'install the NVIDIA driver', devices: [] };") },
  ]);
  const silent = makeProject([{ name: 'tw-gpu', device: 'cuda', index: '// registers nothing' }]);
  t.teardown(() => [ok, missing, silent].forEach(removeProject));

  const r = await doctorJson(ok);
  t.deepEqual(r.transports, []);
  t.is(r.devices.length, 1);
  t.like(r.devices[0], { device: 'cuda', package: 'tw-gpu', version: '1.2.3', available: true, detail: 'CUDA driver 12.8, 1 device' });
  t.deepEqual(r.devices[0]!.devices, [{ index: 0, name: 'Fake GPU', totalBytes: 16 * gib, freeBytes: 15 * gib }]);
  const text = (await runCli(['doctor'], ok)).stdout;
  t.regex(text, /Devices\n  DEVICE +PACKAGE +AVAILABLE +DETAIL/);
  t.regex(text, /cuda +tw-gpu@1\.2\.3 +yes +CUDA driver 12\.8, 1 device/);
  t.regex(text, /cuda:0 +Fake GPU +16\.0 GiB total, 15\.0 GiB free/);

  t.like((await doctorJson(missing)).devices[0], { available: false, detail: 'libcuda.so.1 not found', fix: 'install the NVIDIA driver' });
  t.regex((await runCli(['doctor'], missing)).stdout, /cuda +tw-gpu@1\.2\.3 +no +libcuda\.so\.1 not found +install the NVIDIA driver/);
  const s2 = (await doctorJson(silent)).devices[0]!;
  t.false(s2.available);
  t.regex(s2.detail, /registered no 'cuda' device backend/);
});

test('packages in node_modules of parent directories are found; nested ones only from below', async (t) => {
  const dir = makeProject([{ name: 'tw-top', transport: 'top', index: pluginSource('top', "return { available: true, detail: 'top' };") }]);
  t.teardown(() => removeProject(dir));
  const sub = path.join(dir, 'app');
  fs.mkdirSync(sub);
  addPackages(sub, [{ name: 'tw-deep', transport: 'deep', index: pluginSource('deep', "return { available: true, detail: 'deep' };") }]);

  t.deepEqual((await doctorJson(dir)).transports.map((x) => x.transport), ['top']);
  t.deepEqual((await doctorJson(sub)).transports.map((x) => x.transport), ['deep', 'top']);
});

test('inside the repository, the workspace transport packages are found', async (t) => {
  const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
  const r = await doctorJson(repoRoot);
  const names = r.transports.map((x) => x.package);
  t.true(names.includes('@tensorwire/gloo'), names.join(', '));
  t.true(names.includes('@tensorwire/nixl'), names.join(', '));
  t.true(names.includes('@tensorwire/cuda-ipc'), names.join(', '));
  t.true(names.includes('@tensorwire/nccl'), names.join(', '));
});

test('libcuda and libnccl are found on LD_LIBRARY_PATH without being loaded', (t) => {
  const libs = fs.mkdtempSync(path.join(os.tmpdir(), 'tensorwire-doctor-libs-'));
  t.teardown(() => removeProject(libs));
  // Not real libraries: doctor must only look at the names, never dlopen them.
  fs.writeFileSync(path.join(libs, 'libcuda.so.1'), 'not an ELF file');
  fs.writeFileSync(path.join(libs, 'libnccl.so.2'), 'not an ELF file');
  const out = execFileSync(process.execPath, [MAIN_JS, 'doctor', '--json'], {
    cwd: libs,
    env: { ...process.env, LD_LIBRARY_PATH: libs },
    encoding: 'utf8',
  });
  const nvidia = (JSON.parse(out) as DoctorReport).system.nvidia;
  // (A real one in the linker cache would be reported first; either way one is found.)
  t.regex(nvidia.libcuda ?? '', /libcuda\.so/);
  t.regex(nvidia.libnccl ?? '', /libnccl\.so/);
});

test("libnccl is found in a Python environment's nvidia/nccl/lib (PyTorch's) when the loader has none", (t) => {
  const venv = fs.mkdtempSync(path.join(os.tmpdir(), 'tensorwire-doctor-venv-'));
  t.teardown(() => removeProject(venv));
  const lib = path.join(venv, 'lib', 'python3.12', 'site-packages', 'nvidia', 'nccl', 'lib');
  fs.mkdirSync(lib, { recursive: true });
  fs.writeFileSync(path.join(lib, 'libnccl.so.2'), 'not an ELF file');
  const out = execFileSync(process.execPath, [MAIN_JS, 'doctor', '--json'], {
    cwd: venv,
    env: { ...process.env, LD_LIBRARY_PATH: '', VIRTUAL_ENV: venv },
    encoding: 'utf8',
  });
  const found = (JSON.parse(out) as DoctorReport).system.nvidia.libnccl ?? '';
  // A libnccl in the linker cache or a system Python would be reported first; this machine has none.
  if (!found.startsWith(venv)) return t.pass(`found another libnccl first: ${found}`);
  t.is(found, path.join(lib, 'libnccl.so.2'));
});
