import { fork } from 'node:child_process';
import * as path from 'node:path';
import type { TransportPackage } from './find-transport-packages';
import type { DeviceProbeOutcome, ProbeChildMessage, ProbeOutcome } from './probe-protocol';

/** A transport as doctor reports it: the package that provides it and its probe outcome. */
export interface TransportStatus extends ProbeOutcome {
  readonly package: string;
  readonly version: string;
}

/** A device backend as doctor reports it: the package that provides it and its probe outcome. */
export interface DeviceStatus extends DeviceProbeOutcome {
  readonly package: string;
  readonly version: string;
}

/** What one package's probe found. */
export interface PackageProbe {
  readonly transports: TransportStatus[];
  readonly devices: DeviceStatus[];
}

const STDERR_TAIL = 2000;

/** The last non-empty line of what the child wrote to stderr, to explain a crash. */
function lastLines(text: string, count: number): string {
  return text.trim().split('\n').filter((l) => l.trim()).slice(-count).join(' | ');
}

/**
 * Loads `pkg` and runs the probe of each transport and device backend it declares, in a child
 * process that is killed after `timeoutMs`: a native library that crashes or hangs cannot take
 * doctor with it. Never rejects; failures become `available: false` with the reason.
 */
export function probeInChild(pkg: TransportPackage, timeoutMs: number): Promise<PackageProbe> {
  const rebuild = `reinstall or rebuild it: npm rebuild ${pkg.name} (in the tensorwire repository: npm run build)`;
  const status = (o: ProbeOutcome): TransportStatus => ({
    transport: o.transport,
    package: pkg.name,
    version: pkg.version,
    available: o.available,
    detail: o.detail,
    ...(o.fix ? { fix: o.fix } : {}),
  });
  const deviceStatus = (o: DeviceProbeOutcome): DeviceStatus => ({ ...o, package: pkg.name, version: pkg.version });
  const unavailable = (detail: string, fix: string): PackageProbe => ({
    transports: pkg.transports.map((transport) => status({ transport, available: false, detail, fix })),
    devices: pkg.devices.map((device) => deviceStatus({ device, available: false, detail, fix, devices: [] })),
  });

  return new Promise((resolve) => {
    let message: ProbeChildMessage | undefined;
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const finish = (result: PackageProbe): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const child = fork(path.join(__dirname, 'probe-child.js'), [pkg.dir, ...pkg.transports, ...pkg.devices.map((d) => `--device=${d}`)], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      execArgv: [],
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL);
    });
    child.on('message', (m) => {
      message = m as ProbeChildMessage;
    });
    child.on('error', (err) => finish(unavailable(`could not start the probe process: ${err.message}`, rebuild)));
    child.on('close', (code, signal) => {
      if (message?.kind === 'probed') {
        // The answer counts even if the child crashed on its way out.
        finish({ transports: message.outcomes.map(status), devices: (message.devices ?? []).map(deviceStatus) });
      } else if (message?.kind === 'load-failed') {
        const code = message.code ? ` [${message.code}]` : '';
        finish(unavailable(`loading the package failed${code}: ${message.message}`, rebuild));
      } else if (timedOut) {
        finish(unavailable(`loading or probing did not finish within ${timeoutMs} ms (killed)`, `check that the package's native library does not hang: node -e "require('${pkg.name}')"`));
      } else {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const tail = lastLines(stderr, 3);
        finish(
          unavailable(
            `the probe process ${how} while loading or probing${tail ? `: ${tail}` : ''}`,
            `the native library crashes; reproduce with node -e "require('${pkg.name}')", then ${rebuild}`,
          ),
        );
      }
    });
  });
}
