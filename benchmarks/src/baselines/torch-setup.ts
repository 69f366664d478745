/**
 * Whether the torch.distributed baseline can run. With `--with-torch` (`npm run bench --
 * --with-torch`) a missing torch is installed first by scripts/install-torch.sh (Debian's
 * python3-torch through apt-get, as root or with sudo); without the flag nothing is installed
 * and the row says how to get it. The tests never install it.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { canImportTorch, TORCH_PYTHON } from './torch-gloo';

export type TorchState = { available: true } | { available: false; why: string };

const INSTALLER = path.resolve(__dirname, '..', '..', '..', 'scripts', 'install-torch.sh');

export function ensureTorch(withTorch: boolean, say: (line: string) => void): TorchState {
  if (canImportTorch()) return { available: true };
  if (!withTorch) {
    return {
      available: false,
      why: `${TORCH_PYTHON} cannot import torch; \`npm run bench -- --with-torch\` installs Debian's python3-torch first (or: apt-get install python3-torch)`,
    };
  }
  if (process.env.TENSORWIRE_BENCH_PYTHON) {
    return { available: false, why: `TENSORWIRE_BENCH_PYTHON=${TORCH_PYTHON} cannot import torch; --with-torch installs only Debian's python3-torch for /usr/bin/python3: install torch for that Python yourself, or unset TENSORWIRE_BENCH_PYTHON` };
  }
  say(`  ${TORCH_PYTHON} cannot import torch: installing Debian's python3-torch (--with-torch; scripts/install-torch.sh)`);
  const run = spawnSync('bash', [INSTALLER], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.status !== 0) return { available: false, why: `installing python3-torch failed (scripts/install-torch.sh exited ${run.status ?? run.signal}; see its messages above)` };
  if (!canImportTorch()) return { available: false, why: `python3-torch is installed but ${TORCH_PYTHON} still cannot import torch.distributed` };
  return { available: true };
}
