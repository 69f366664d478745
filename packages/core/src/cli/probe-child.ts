/**
 * Entry point of the short-lived child process in which doctor loads and probes one transport or
 * device package: `node probe-child.js PACKAGE_DIR [TRANSPORT...] [--device=KIND...]`. Loading a
 * native addon or probing its library can crash or hang the process; here that only costs this
 * child, and doctor reports it. The outcome goes to the parent over IPC (see probe-protocol.ts).
 */
import { getDeviceBackend } from '../tensor/device';
import { listTransports } from '../transport/registry';
import type { DeviceProbeOutcome, ProbeChildMessage, ProbeOutcome } from './probe-protocol';

function describe(err: unknown): { message: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { message: err.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { message: String(err) };
}

async function probeOne(name: string): Promise<ProbeOutcome> {
  // The registry lives on globalThis, so this finds the plugin even when the package was
  // loaded with its own copy of @tensorwire/core.
  const registered = listTransports();
  const entry = registered.find((t) => t.plugin.name === name);
  if (!entry) {
    const names = registered.map((t) => t.plugin.name).sort();
    return {
      transport: name,
      available: false,
      detail: `the package loaded but registered no transport named '${name}' (registered: ${names.join(', ') || 'none'})`,
      fix: "the package's main module must call registerTransport() from @tensorwire/core when loaded",
    };
  }
  try {
    const a = await entry.plugin.probe();
    const ok = a !== null && typeof a === 'object' && typeof a.available === 'boolean';
    if (!ok) return { transport: name, available: false, detail: `probe() returned ${JSON.stringify(a)}, not an Availability` };
    return {
      transport: name,
      available: a.available,
      detail: typeof a.detail === 'string' ? a.detail : '',
      ...(typeof a.fix === 'string' && a.fix ? { fix: a.fix } : {}),
    };
  } catch (err) {
    return { transport: name, available: false, detail: `probe() threw: ${describe(err).message}` };
  }
}

async function probeDevice(kind: string): Promise<DeviceProbeOutcome> {
  const backend = kind === 'cuda' ? getDeviceBackend(kind) : undefined;
  if (!backend) {
    return {
      device: kind,
      available: false,
      detail: `the package loaded but registered no '${kind}' device backend`,
      fix: `the package's main module must call registerDeviceBackend('${kind}', backend) from @tensorwire/core when loaded`,
      devices: [],
    };
  }
  try {
    if (backend.probe) {
      const p = await backend.probe();
      return { device: kind, available: p.available === true, detail: String(p.detail ?? ''), ...(p.fix ? { fix: p.fix } : {}), devices: [...(p.devices ?? [])] };
    }
    const count = backend.deviceCount();
    return { device: kind, available: count > 0, detail: `${count} device(s)`, devices: [] };
  } catch (err) {
    return { device: kind, available: false, detail: describe(err).message, devices: [] };
  }
}

async function main(): Promise<void> {
  const [dir, ...args] = process.argv.slice(2);
  const names = args.filter((a) => !a.startsWith('--device='));
  const deviceKinds = args.filter((a) => a.startsWith('--device=')).map((a) => a.slice('--device='.length));
  let message: ProbeChildMessage;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(dir!);
    const outcomes: ProbeOutcome[] = [];
    for (const name of names) outcomes.push(await probeOne(name));
    const devices: DeviceProbeOutcome[] = [];
    for (const kind of deviceKinds) devices.push(await probeDevice(kind));
    message = { kind: 'probed', outcomes, devices };
  } catch (err) {
    message = { kind: 'load-failed', ...describe(err) };
  }
  // Exit as soon as the parent has the answer: a plugin may keep threads or handles alive.
  if (process.send) process.send(message, () => process.exit(0));
  else {
    process.stdout.write(JSON.stringify(message) + '\n');
    process.exit(0);
  }
}

void main();
