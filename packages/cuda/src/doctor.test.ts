/** `npx tensorwire doctor` shows the CUDA driver, its devices and their memory, or why not and the fix. */
import test from 'ava';
import { mockOnly } from './test/driver-under-test';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { mockLibraryPath } from './testing';

const CLI = require.resolve('@tensorwire/core/package.json').replace(/package\.json$/, path.join('dist', 'cli', 'main.js'));
const PACKAGE_DIR = path.join(__dirname, '..');

interface DeviceStatus {
  device: string;
  package: string;
  available: boolean;
  detail: string;
  fix?: string;
  devices: { index: number; name: string; totalBytes: number; freeBytes: number }[];
}

function doctor(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, 'doctor', ...args], { cwd: PACKAGE_DIR, env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

async function cudaStatus(env: Record<string, string>): Promise<DeviceStatus> {
  const report = JSON.parse(await doctor(['--json'], env)) as { devices: DeviceStatus[] };
  const cuda = report.devices.find((d) => d.package === '@tensorwire/cuda');
  if (!cuda) throw new Error(`doctor did not list @tensorwire/cuda: ${JSON.stringify(report.devices)}`);
  return cuda;
}

mockOnly('with the mock driver: driver version, devices and memory', async (t) => {
  const env = { TENSORWIRE_LIBCUDA: mockLibraryPath, TENSORWIRE_MOCK_CUDA_DEVICES: '2', TENSORWIRE_MOCK_CUDA_MEMORY: '8G' };
  const s = await cudaStatus(env);
  t.true(s.available);
  t.is(s.device, 'cuda');
  t.regex(s.detail, /^CUDA driver 12\.8 \(.*libtensorwire_mockcuda\.so, the mock driver: it proves the code paths, not a GPU\), 2 device\(s\)$/);
  t.deepEqual(s.devices.map((d) => [d.index, d.name, d.totalBytes]), [[0, 'tensorwire mock GPU 0', 8 * 2 ** 30], [1, 'tensorwire mock GPU 1', 8 * 2 ** 30]]);
  const text = await doctor([], env);
  t.regex(text, /Devices\n  DEVICE +PACKAGE +AVAILABLE +DETAIL/);
  t.regex(text, /cuda +@tensorwire\/cuda@0\.1\.0 +yes +CUDA driver 12\.8/);
  t.regex(text, /cuda:1 +tensorwire mock GPU 1 +8\.0 GiB total, 8\.0 GiB free/);
});

test('without a driver: not available, what is missing and the fix', async (t) => {
  const s = await cudaStatus({ TENSORWIRE_LIBCUDA: '/nonexistent/libcuda.so.1' });
  t.false(s.available);
  t.regex(s.detail, /TENSORWIRE_LIBCUDA=\/nonexistent\/libcuda\.so\.1 could not be loaded/);
  t.regex(s.fix ?? '', /point TENSORWIRE_LIBCUDA at a CUDA driver library/);
  t.deepEqual(s.devices, []);
  const text = await doctor([], { TENSORWIRE_LIBCUDA: '/nonexistent/libcuda.so.1' });
  t.regex(text, /cuda +@tensorwire\/cuda@0\.1\.0 +no +TENSORWIRE_LIBCUDA=\/nonexistent\/libcuda\.so\.1 could not be loaded/);
});
