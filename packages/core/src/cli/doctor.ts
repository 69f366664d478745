import * as fs from 'node:fs';
import * as path from 'node:path';
import { findTransportPackages } from './find-transport-packages';
import { formatTable } from './format-table';
import { probeInChild, type DeviceStatus, type TransportStatus } from './probe-in-child';
import { collectSystemInfo, type SystemInfo } from './system-info';

/** What `tensorwire doctor --json` prints. */
export interface DoctorReport {
  /** Version of @tensorwire/core that ran doctor. */
  readonly core: string;
  readonly cwd: string;
  readonly system: SystemInfo;
  /** Every transport package found from cwd, probed; may be empty. */
  readonly transports: readonly TransportStatus[];
  /** Every device backend package found from cwd (e.g. CUDA), probed; may be empty. */
  readonly devices: readonly DeviceStatus[];
}

export interface DoctorOptions {
  readonly cwd: string;
  /** Per-package limit for loading and probing, in milliseconds. */
  readonly timeoutMs: number;
}

function coreVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? '?';
  } catch {
    return '?';
  }
}

/** Finds the transport and device packages, probes each in its own child process (in parallel), and gathers machine facts. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const packages = findTransportPackages(options.cwd);
  const probed = await Promise.all(packages.map((p) => probeInChild(p, options.timeoutMs)));
  return {
    core: coreVersion(),
    cwd: options.cwd,
    system: collectSystemInfo(),
    transports: probed.flatMap((p) => p.transports),
    devices: probed.flatMap((p) => p.devices),
  };
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/** The human-readable report. */
export function formatDoctorReport(r: DoctorReport): string {
  const s = r.system;
  const nv = s.nvidia;
  const gpu = nv.gpus.length
    ? `${nv.gpus.length} (${nv.gpus.join(', ')})`
    : nv.driver
      ? 'driver loaded, no GPU listed'
      : 'none visible (no /proc/driver/nvidia)';
  const envNames = Object.keys(s.env);
  const lines = [
    `tensorwire doctor (@tensorwire/core ${r.core})`,
    '',
    'System',
    `  node          ${s.node}`,
    `  platform      ${s.platform}/${s.arch}`,
    `  os            ${s.os} (kernel ${s.kernel})`,
    `  cpus          ${s.cpus} (${s.cpuModel})`,
    `  memory        ${gib(s.memoryTotalBytes)} total, ${gib(s.memoryFreeBytes)} free`,
    `  nvidia gpu    ${gpu}`,
    ...(nv.driverVersion ? [`  nvidia driver ${nv.driverVersion}`] : []),
    `  libcuda       ${nv.libcuda ?? 'not found'}`,
    `  libnccl       ${nv.libnccl ?? 'not found'}`,
    `  env           ${envNames.length ? envNames.map((k) => `${k}=${s.env[k]}`).join(' ') : '(no UCX_/NCCL_/NIXL_/GLOO_ variables set)'}`,
    '',
    'Transports',
  ];
  if (r.transports.length === 0) {
    lines.push(
      `  none installed (no package with a "tensorwire": { "transport": ... } field is resolvable from ${r.cwd}).`,
      '  Install one, e.g. npm install @tensorwire/gloo',
    );
  } else {
    const rows = r.transports.map((t) => [t.transport, `${t.package}@${t.version}`, t.available ? 'yes' : 'no', t.detail, t.fix && !t.available ? t.fix : '']);
    const table = formatTable(['TRANSPORT', 'PACKAGE', 'AVAILABLE', 'DETAIL', 'FIX'], rows);
    lines.push(...table.split('\n').map((l) => `  ${l}`));
    const ok = r.transports.filter((t) => t.available).length;
    lines.push('', `  ${ok} of ${r.transports.length} transport(s) available here.`);
  }
  lines.push('', 'Devices');
  if (r.devices.length === 0) {
    lines.push(`  no device backend installed (no package with a "tensorwire": { "device": ... } field is resolvable from ${r.cwd}); tensors stay on the CPU`);
  } else {
    const rows = r.devices.map((d) => [d.device, `${d.package}@${d.version}`, d.available ? 'yes' : 'no', d.detail, d.fix && !d.available ? d.fix : '']);
    const table = formatTable(['DEVICE', 'PACKAGE', 'AVAILABLE', 'DETAIL', 'FIX'], rows);
    lines.push(...table.split('\n').map((l) => `  ${l}`));
    for (const d of r.devices) {
      for (const info of d.devices) {
        lines.push(`    ${d.device}:${info.index}  ${info.name}  ${gib(info.totalBytes)} total, ${gib(info.freeBytes)} free`);
      }
    }
  }
  return lines.join('\n') + '\n';
}
