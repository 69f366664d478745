/**
 * NCCL as PyTorch installs it: the `nvidia-nccl-cu12` (or -cu11, -cu13) wheel puts
 * `libnccl.so.2` in `<site-packages>/nvidia/nccl/lib/` of the Python environment. When the
 * loader's path has no libnccl.so.2, the plugin (and `tensorwire doctor`) look there.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Printed by the Python we ask: the directories where a wheel's nvidia/nccl/lib may be. */
const PYTHON_SCRIPT = [
  'import os, site, sys',
  'dirs = []',
  'try:',
  '    import nvidia.nccl as m',
  "    dirs += [os.path.join(p, 'lib') for p in list(getattr(m, '__path__', []))]",
  'except Exception:',
  '    pass',
  'try:',
  '    sp = site.getsitepackages() + [site.getusersitepackages()]',
  'except Exception:',
  "    sp = [p for p in sys.path if p.endswith('site-packages')]",
  "dirs += [os.path.join(p, 'nvidia', 'nccl', 'lib') for p in sp]",
  "print('\\n'.join(dirs))",
].join('\n');

let cached: string[] | undefined;

/** The Python to ask: TENSORWIRE_PYTHON, else python3 on PATH. */
export function pythonExecutable(): string {
  const named = process.env.TENSORWIRE_PYTHON;
  return named && named.trim() ? named.trim() : 'python3';
}

/** Directories of the active virtual or conda environment that may hold the wheel. */
function environmentDirs(): string[] {
  const out: string[] = [];
  for (const prefix of [process.env.VIRTUAL_ENV, process.env.CONDA_PREFIX]) {
    if (!prefix) continue;
    const lib = path.join(prefix, 'lib');
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(lib).filter((d) => d.startsWith('python3'));
    } catch {
      continue;
    }
    for (const d of entries) out.push(path.join(lib, d, 'site-packages', 'nvidia', 'nccl', 'lib'));
  }
  return out;
}

/**
 * Every `libnccl.so.2` of a Python environment found (asked once per process; at most a few
 * seconds, never throws): the active virtual or conda environment first, then what the Python
 * on PATH (or TENSORWIRE_PYTHON) imports.
 */
export function findPythonNccl(): string[] {
  if (cached) return cached;
  const dirs = environmentDirs();
  try {
    const r = spawnSync(pythonExecutable(), ['-c', PYTHON_SCRIPT], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    if (r.status === 0 && typeof r.stdout === 'string') dirs.push(...r.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
  } catch {
    // no Python: nothing found there
  }
  const seen = new Set<string>();
  cached = [];
  for (const d of dirs) {
    const file = path.join(d, 'libnccl.so.2');
    let real: string;
    try {
      real = fs.realpathSync(file);
    } catch {
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    cached.push(file);
  }
  return cached;
}
