/**
 * Which network devices an agent's UCX transports use, and so which addresses they listen on
 * (see README, "Network exposure"). Every UCX worker listens with its tcp transport on each device
 * it selects, and UCX endpoints are unauthenticated: anyone who reaches the port can connect. So
 * the default is loopback only, like the control plane and gloo. Other interfaces are used only
 * when the transport options or the environment say so.
 *
 * Order: UCX_NET_DEVICES (the user's own UCX setting always wins), then the transport option
 * `netDevices`, then `host`, then env TENSORWIRE_NIXL_HOST, then loopback only.
 */
import * as net from 'node:net';
import * as os from 'node:os';
import { NixlError } from './errors';
import type { NixlTransportOptions } from './options';

/** UCX_NET_DEVICES for loopback only (the native addon's default too). */
export const LOOPBACK_NET_DEVICES = 'lo';
/** UCX_NET_DEVICES for every device (UCX's own default). */
export const ALL_NET_DEVICES = 'all';

/** The network part of `transportOptions.nixl` (see options.ts). */
export type NixlNetworkOptions = Pick<NixlTransportOptions, 'host' | 'netDevices'>;

export type NetDevicesSource = 'UCX_NET_DEVICES' | 'netDevices' | 'host' | 'TENSORWIRE_NIXL_HOST' | 'default';

export interface NetDevicesChoice {
  /** The UCX_NET_DEVICES list the agent's context gets. */
  readonly devices: string;
  readonly source: NetDevicesSource;
}

type Interfaces = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new NixlError('ERR_INVALID_ARG_TYPE', `nixl transport option '${name}' must be a string, got ${typeof value}`);
  }
  return value.trim() || undefined;
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || (net.isIPv4(ip) && ip.startsWith('127.'));
}

/** The UCX device list for `host`, an IP address of this machine (or a wildcard, or 'localhost'). */
export function devicesForHost(host: string, interfaces: Interfaces = os.networkInterfaces()): string {
  const ip = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (ip === '0.0.0.0' || ip === '::') return ALL_NET_DEVICES;
  if (ip === 'localhost' || isLoopback(ip)) return LOOPBACK_NET_DEVICES;
  if (net.isIP(ip) === 0) {
    throw new NixlError(
      'ERR_INVALID_ARG_VALUE',
      `nixl: host '${host}' is not an IP address; give an address of this machine, '0.0.0.0' for every interface, or netDevices`,
    );
  }
  const known: string[] = [];
  for (const [name, addresses] of Object.entries(interfaces)) {
    for (const a of addresses ?? []) {
      if (a.address.toLowerCase() === ip) return name;
      known.push(`${name} ${a.address}`);
    }
  }
  throw new NixlError(
    'ERR_INVALID_ARG_VALUE',
    `nixl: no network interface of this machine has the address ${host} (known: ${known.join(', ') || 'none'})`,
  );
}

/** The device list for this process's agent; see the order at the top of this file. */
export function resolveNetDevices(
  options: Readonly<Record<string, unknown>> = {},
  env: NodeJS.ProcessEnv = process.env,
  interfaces?: Interfaces,
): NetDevicesChoice {
  const netDevices = optionalString(options.netDevices, 'netDevices');
  const host = optionalString(options.host, 'host');
  if (netDevices !== undefined && host !== undefined) {
    throw new NixlError('ERR_INVALID_ARG_VALUE', "nixl: give the transport option 'host' or 'netDevices', not both");
  }
  if (env.UCX_NET_DEVICES !== undefined) return { devices: env.UCX_NET_DEVICES, source: 'UCX_NET_DEVICES' };
  if (netDevices !== undefined) return { devices: netDevices, source: 'netDevices' };
  if (host !== undefined) return { devices: devicesForHost(host, interfaces), source: 'host' };
  const fromEnv = env.TENSORWIRE_NIXL_HOST?.trim();
  if (fromEnv) return { devices: devicesForHost(fromEnv, interfaces), source: 'TENSORWIRE_NIXL_HOST' };
  return { devices: LOOPBACK_NET_DEVICES, source: 'default' };
}

/** One line for logs and probe(): what the agent listens on. */
export function describeNetDevices(devices: string): string {
  return devices === LOOPBACK_NET_DEVICES
    ? 'UCX listens on loopback only'
    : `UCX listens on UCX_NET_DEVICES=${devices} (unauthenticated: trusted networks only)`;
}
