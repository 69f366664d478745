import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The machine facts doctor reports; gathered without loading any native library. */
export interface SystemInfo {
  readonly node: string;
  readonly platform: string;
  readonly arch: string;
  /** e.g. 'Debian GNU/Linux 12 (bookworm)'; the kernel release is in `kernel`. */
  readonly os: string;
  readonly kernel: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryTotalBytes: number;
  readonly memoryFreeBytes: number;
  readonly nvidia: NvidiaInfo;
  /** Transport-related environment variables that are set (UCX_*, NCCL_*, NIXL_*, GLOO_*, CUDA_VISIBLE_DEVICES). */
  readonly env: Readonly<Record<string, string>>;
}

export interface NvidiaInfo {
  /** The NVIDIA kernel driver is loaded (/proc/driver/nvidia exists). */
  readonly driver: boolean;
  /** Driver version line from /proc/driver/nvidia/version, when loaded. */
  readonly driverVersion?: string;
  /** GPU models listed under /proc/driver/nvidia/gpus. */
  readonly gpus: readonly string[];
  /** Where libcuda.so was found (dynamic linker cache or LD_LIBRARY_PATH), or null. */
  readonly libcuda: string | null;
  /**
   * Where libnccl.so was found (linker cache, LD_LIBRARY_PATH, else the nvidia/nccl/lib of a
   * Python environment, where PyTorch's nvidia-nccl wheel puts it), or null.
   */
  readonly libnccl: string | null;
}

const ENV_PREFIXES = ['UCX_', 'NCCL_', 'NIXL_', 'GLOO_'];
const ENV_NAMES = ['CUDA_VISIBLE_DEVICES'];

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function osName(): string {
  const release = readText('/etc/os-release');
  const pretty = release && /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release)?.[1];
  return pretty || `${os.type()} ${os.release()}`;
}

/** The dynamic linker's library cache (`ldconfig -p`), or '' where there is none (macOS, no ldconfig). */
function linkerCache(): string {
  for (const ldconfig of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      return execFileSync(ldconfig, ['-p'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      // try the next location
    }
  }
  return '';
}

/** Finds a shared library by file name without loading it: linker cache, then LD_LIBRARY_PATH. */
function findLibrary(cache: string, soname: string): string | null {
  const line = cache.split('\n').find((l) => l.trim().startsWith(soname));
  const cached = line && /=>\s*(\S+)/.exec(line)?.[1];
  if (cached) return cached;
  for (const dir of (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)) {
    try {
      const hit = fs.readdirSync(dir).find((f) => f.startsWith(soname));
      if (hit) return path.join(dir, hit);
    } catch {
      // unreadable directory: skip
    }
  }
  return null;
}

/** site-packages directories of the active virtual or conda environment, the user's and the system's Pythons. */
function pythonSitePackages(): string[] {
  const prefixes = [process.env.VIRTUAL_ENV, process.env.CONDA_PREFIX, path.join(os.homedir(), '.local'), '/usr/local', '/usr', '/opt/conda'];
  const out: string[] = [];
  for (const prefix of prefixes) {
    if (!prefix) continue;
    let versions: string[] = [];
    try {
      versions = fs.readdirSync(path.join(prefix, 'lib')).filter((d) => d.startsWith('python3')).sort().reverse();
    } catch {
      continue;
    }
    for (const v of versions) for (const kind of ['site-packages', 'dist-packages']) out.push(path.join(prefix, 'lib', v, kind));
  }
  return out;
}

/** libnccl.so.2 as a Python wheel installs it (nvidia-nccl-cu12, which PyTorch depends on), looked up by name only. */
function findPythonNccl(): string | null {
  for (const dir of pythonSitePackages()) {
    const file = path.join(dir, 'nvidia', 'nccl', 'lib', 'libnccl.so.2');
    if (fs.existsSync(file)) return file;
  }
  return null;
}

function nvidiaInfo(): NvidiaInfo {
  const driver = fs.existsSync('/proc/driver/nvidia');
  const version = readText('/proc/driver/nvidia/version')?.split('\n')[0]?.trim();
  const gpus: string[] = [];
  try {
    for (const id of fs.readdirSync('/proc/driver/nvidia/gpus').sort()) {
      const info = readText(path.join('/proc/driver/nvidia/gpus', id, 'information')) ?? '';
      gpus.push(/^Model:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? `GPU ${id}`);
    }
  } catch {
    // no GPUs listed
  }
  const cache = linkerCache();
  return {
    driver,
    ...(version ? { driverVersion: version } : {}),
    gpus,
    libcuda: findLibrary(cache, 'libcuda.so'),
    libnccl: findLibrary(cache, 'libnccl.so') ?? findPythonNccl(),
  };
}

function transportEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(process.env).sort()) {
    if (ENV_NAMES.includes(key) || ENV_PREFIXES.some((p) => key.startsWith(p))) out[key] = process.env[key] ?? '';
  }
  return out;
}

/** Collects the machine facts (cheap: no native library is loaded). */
export function collectSystemInfo(): SystemInfo {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    os: osName(),
    kernel: os.release(),
    cpus: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryTotalBytes: os.totalmem(),
    memoryFreeBytes: os.freemem(),
    nvidia: nvidiaInfo(),
    env: transportEnv(),
  };
}
