/**
 * Network exposure (issue 7, item 6): an agent's UCX listeners bind loopback only unless the
 * transport options or UCX_NET_DEVICES say otherwise. Checked on the listening sockets of a real
 * agent process, read from /proc.
 */
import test from 'ava';
import * as os from 'node:os';
import { PeerError, tensorSpec } from '@tensorwire/conformance/testing';
import type { NixlDescriptor } from './descriptor';
import { loadNative } from './native';
import { resolveNetDevices } from './network';
import { isLoopbackIp, listeningSockets, type ListeningSocket } from './testing/listening';
import { nixlPeers } from './testing/nixl-peers';

interface Agent {
  netDevices?: string;
  error?: { message: string; code?: string };
  listening: ListeningSocket[];
}

/**
 * Start an agent in a peer process with these transport options and environment (the test
 * decides what UCX_NET_DEVICES and TENSORWIRE_NIXL_HOST say there); list its listeners.
 */
async function agentListening(options: Record<string, unknown>, env: Record<string, string> = {}): Promise<Agent> {
  const peers = nixlPeers(options);
  try {
    const peer = await peers.startOne('listening', { env: { UCX_NET_DEVICES: undefined, TENSORWIRE_NIXL_HOST: undefined, ...env } });
    const netDevices = await peer.call<string>('netDevices');
    return { netDevices, listening: listeningSockets(peer.pid) };
  } catch (e) {
    if (!(e instanceof PeerError)) throw e;
    return { error: { message: e.message, code: e.code }, listening: [] };
  } finally {
    await peers.killAll();
  }
}

const show = (l: ListeningSocket[]): string => l.map((s) => `${s.ip}:${s.port}`).join(', ') || 'none';

/** This machine's non-loopback IPv4 interfaces (UCX's tcp transport listens on IPv4 by default). */
const external = Object.entries(os.networkInterfaces())
  .flatMap(([name, a]) => (a ?? []).map((info) => ({ name, ...info })))
  .filter((a) => !a.internal && a.family === 'IPv4');

test('by default every socket the agent listens on is bound to loopback', async (t) => {
  const agent = await agentListening({});
  t.log(`default: listening on ${show(agent.listening)}`);
  t.deepEqual(agent.listening.filter((s) => !isLoopbackIp(s.ip)), [], 'no listener outside loopback');
  t.is(agent.netDevices, 'lo');
});

test("host '0.0.0.0' opts in to every interface", async (t) => {
  const agent = await agentListening({ host: '0.0.0.0' });
  t.log(`host 0.0.0.0: listening on ${show(agent.listening)}`);
  t.is(agent.netDevices, 'all');
  if (external.length === 0) return void t.log('no non-loopback IPv4 interface here: nothing more to check');
  t.true(agent.listening.some((s) => !isLoopbackIp(s.ip)), 'a listener on a network interface');
});

test('UCX_NET_DEVICES set by the user wins over the transport options', async (t) => {
  const narrowed = await agentListening({ host: '0.0.0.0' }, { UCX_NET_DEVICES: 'lo' });
  t.is(narrowed.netDevices, 'lo');
  t.deepEqual(narrowed.listening.filter((s) => !isLoopbackIp(s.ip)), []);
  const widened = await agentListening({ netDevices: 'lo' }, { UCX_NET_DEVICES: 'all' });
  t.is(widened.netDevices, 'all');
  if (external.length > 0) t.true(widened.listening.some((s) => !isLoopbackIp(s.ip)), show(widened.listening));
});

test('a loopback-only reader cannot reach an agent on another device: UCX_CONNECT_FAILED says why', async (t) => {
  if (external.length === 0) return void t.pass('no non-loopback IPv4 interface here');
  // tcp only, so shared memory cannot bridge them: like a producer on another host.
  const peers = nixlPeers();
  try {
    const producer = await peers.startOne('net-producer', { env: { UCX_TLS: 'tcp', UCX_NET_DEVICES: external[0].name } });
    const reader = await peers.startOne('net-reader', { env: { UCX_TLS: 'tcp', UCX_NET_DEVICES: 'lo' } });
    const specs = [tensorSpec(64, 1)];
    const { desc } = await producer.call<{ desc: NixlDescriptor }>('register', { specs });
    const e = await t.throwsAsync(reader.call('read', { desc, specs, timeoutMs: 10_000 }), { instanceOf: PeerError });
    t.is((e as PeerError).code, 'UCX_CONNECT_FAILED');
    t.regex(e!.message, /share no network device/);
  } finally {
    await peers.killAll();
  }
});

test('a host that is not an address of this machine fails the endpoint with a clear error', async (t) => {
  const agent = await agentListening({ host: '203.0.113.77' });
  t.is(agent.error?.code, 'ERR_INVALID_ARG_VALUE');
  t.regex(agent.error?.message ?? '', /no network interface of this machine has the address 203\.0\.113\.77/);
});

test('resolveNetDevices: order UCX_NET_DEVICES, netDevices, host, TENSORWIRE_NIXL_HOST, loopback', (t) => {
  const ifaces = {
    lo: [{ address: '127.0.0.1', internal: true }, { address: '::1', internal: true }],
    eth0: [{ address: '192.0.2.2', internal: false }, { address: 'fd00::2', internal: false }],
  } as unknown as NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  const r = (options: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => resolveNetDevices(options, env, ifaces);
  t.deepEqual(r({}), { devices: 'lo', source: 'default' });
  t.deepEqual(r({ host: '192.0.2.2' }), { devices: 'eth0', source: 'host' });
  t.deepEqual(r({ host: '[FD00::2]' }), { devices: 'eth0', source: 'host' });
  t.deepEqual(r({ host: '0.0.0.0' }), { devices: 'all', source: 'host' });
  t.deepEqual(r({ host: '::' }), { devices: 'all', source: 'host' });
  t.deepEqual(r({ host: 'localhost' }), { devices: 'lo', source: 'host' });
  t.deepEqual(r({ host: '127.0.0.1' }), { devices: 'lo', source: 'host' });
  t.deepEqual(r({ netDevices: 'mlx5_0:1,eth0' }), { devices: 'mlx5_0:1,eth0', source: 'netDevices' });
  t.deepEqual(r({}, { TENSORWIRE_NIXL_HOST: '192.0.2.2' }), { devices: 'eth0', source: 'TENSORWIRE_NIXL_HOST' });
  t.deepEqual(r({ host: '127.0.0.1' }, { TENSORWIRE_NIXL_HOST: '0.0.0.0' }), { devices: 'lo', source: 'host' });
  t.deepEqual(r({ netDevices: 'lo' }, { UCX_NET_DEVICES: 'eth0' }), { devices: 'eth0', source: 'UCX_NET_DEVICES' });
  t.deepEqual(r({ host: '  ', netDevices: '' }), { devices: 'lo', source: 'default' }, 'blank means unset');
  t.throws(() => r({ host: 'db.example.com' }), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => r({ host: '10.9.9.9' }), { code: 'ERR_INVALID_ARG_VALUE', message: /known: lo 127\.0\.0\.1/ });
  t.throws(() => r({ host: '0.0.0.0', netDevices: 'eth0' }), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => r({ host: 7 }), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('the native agent reports its devices and rejects a non-string netDevices', async (t) => {
  const { Agent } = loadNative();
  const err = t.throws(() => new Agent('bad-devices', { netDevices: 5 as unknown as string }));
  t.is((err as Error & { code?: string }).code, 'ERR_INVALID_ARG_TYPE');
  if (process.env.UCX_NET_DEVICES !== undefined) return void t.log('UCX_NET_DEVICES is set here: it wins');
  const agent = new Agent('devices', {});
  t.is(agent.netDevices, 'lo', 'the raw addon defaults to loopback too');
  await agent.close();
});
