/** `npx tensorwire doctor` lists nccl: available with NCCL's version and where it was found, or why not and the fix. */
import test from 'ava';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { mockLibraryPath as mockCuda } from '@tensorwire/cuda/testing';
import { mockLibraryPath } from './testing';

const CLI = require.resolve('@tensorwire/core/package.json').replace(/package\.json$/, path.join('dist', 'cli', 'main.js'));
const PACKAGE_DIR = path.join(__dirname, '..');

interface TransportStatus {
  transport: string;
  package: string;
  available: boolean;
  detail: string;
  fix?: string;
}

function doctor(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, 'doctor', ...args], { cwd: PACKAGE_DIR, env: { ...process.env, ...env }, timeout: 90_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

async function ncclStatus(env: Record<string, string>): Promise<TransportStatus> {
  const report = JSON.parse(await doctor(['--json'], env)) as { transports: TransportStatus[] };
  const nccl = report.transports.find((t) => t.transport === 'nccl');
  if (!nccl) throw new Error(`doctor did not list nccl: ${JSON.stringify(report.transports.map((t) => t.transport))}`);
  return nccl;
}

test('with the mocks: nccl available, its version and that it is the mock', async (t) => {
  const s = await ncclStatus({ TENSORWIRE_LIBCUDA: mockCuda, TENSORWIRE_LIBNCCL: mockLibraryPath });
  t.true(s.available, s.detail);
  t.is(s.package, '@tensorwire/nccl');
  t.regex(s.detail, /^NCCL 2\.30\.7 \(.*libtensorwire_mocknccl\.so, the mock NCCL/);
  const text = await doctor([], { TENSORWIRE_LIBCUDA: mockCuda, TENSORWIRE_LIBNCCL: mockLibraryPath });
  t.regex(text, /nccl +@tensorwire\/nccl@0\.1\.0 +yes +NCCL 2\.30\.7/);
});

test('without a GPU: nccl not available, CUDA named with the fix', async (t) => {
  const s = await ncclStatus({ TENSORWIRE_LIBCUDA: '/nonexistent/libcuda.so.1', TENSORWIRE_LIBNCCL: mockLibraryPath });
  t.false(s.available);
  t.regex(s.detail, /CUDA is not available/);
  t.truthy(s.fix);
});
