/**
 * The remote form of the launcher seam, on this host: a launcher with controlHost() makes the
 * driver listen on TCP with TLS at exactly that address; actors join through
 * `tensorwire worker`, pinning the driver's certificate and reading the token from a file.
 * Refusals: a joiner handed a wrong fingerprint never sends its token; a plain-TCP peer, a
 * hello without the token and one with a wrong token get no reply. (Across hosts under Slurm:
 * @tensorwire/slurm's multi-host tests.)
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import * as path from 'node:path';
import { ActorDiedError, InvalidArgumentError, get, init, shutdown, spawn } from '../index';
import { makeSelfSignedIdentity, normalizeFingerprint } from '../rpc/self-signed-cert';
import type { ControlServer } from '../rpc/control-server';
import { adoptNetworkHost } from '../runtime/network-host';
import { CliWorkerLauncher } from './fixtures/cli-worker-launcher';
import { connectRaw, frameOf, until } from './fixtures/test-peer';
import { Counter } from './fixtures/actors';

const serverOf = (rt: unknown): ControlServer => (rt as { server: ControlServer }).server;
const CLI = path.join(__dirname, '..', 'cli', 'main.js');

test('the driver certificate is a valid self-signed X.509 whose fingerprint is the one handed out', (t) => {
  const id = makeSelfSignedIdentity('tensorwire-driver', new Date('2030-06-01T00:00:00Z'));
  const x = new crypto.X509Certificate(id.cert);
  t.true(x.verify(x.publicKey), 'self-signed');
  t.is(x.subject, 'CN=tensorwire-driver');
  t.is(x.fingerprint256, id.fingerprint256);
  t.true(new Date(x.validFrom) < new Date('2030-06-01T00:00:00Z') && new Date(x.validTo) > new Date('2031-01-01'));
  t.is(normalizeFingerprint(id.fingerprint256.replace(/:/g, '').toLowerCase()), id.fingerprint256);
  t.is(normalizeFingerprint('not-hex'), '');
  t.not(makeSelfSignedIdentity().fingerprint256, makeSelfSignedIdentity().fingerprint256, 'a new key each time');
});

test('transports get the address that reaches the peers, never loopback or a wildcard, and never over the user', (t) => {
  const env: NodeJS.ProcessEnv = { TENSORWIRE_NIXL_HOST: '10.9.9.9' };
  t.deepEqual(adoptNetworkHost('10.1.2.3', env), ['TENSORWIRE_NETWORK_HOST', 'TENSORWIRE_GLOO_HOST']);
  t.is(env.TENSORWIRE_GLOO_HOST, '10.1.2.3');
  t.is(env.TENSORWIRE_NIXL_HOST, '10.9.9.9', "the user's own setting is kept");
  for (const a of ['127.0.0.1', '::1', '0.0.0.0', '::', 'localhost', '::ffff:127.0.0.1']) t.deepEqual(adoptNetworkHost(a, {}), [], a);
});

test.serial('a remote launcher: TLS on its address only, actors join with `tensorwire worker` and a token file', async (t) => {
  const launcher = new CliWorkerLauncher('127.0.0.1');
  const rt = await init({ launcher });
  t.teardown(() => shutdown({ graceMs: 0 }));
  const address = serverOf(rt).address;
  t.regex(address, /^127\.0\.0\.1:\d+$/, 'bound the address the launcher gave, not a wildcard');
  const a = await spawn(Counter, { args: [5], node: 'here', numGpus: 1 });
  t.is(await get(a.inc.remote(2)), 7);
  t.deepEqual(launcher.placements, [{ numGpus: 1, node: 'here' }], 'numGpus and node reach a launcher that places actors');
  const env = launcher.envs[0]!;
  t.is(env.TENSORWIRE_DRIVER_ADDRESS, address);
  t.is(env.TENSORWIRE_DRIVER_CERT_SHA256, new crypto.X509Certificate(tlsCertOf(rt)).fingerprint256);
  t.is(env.CUDA_VISIBLE_DEVICES, process.env.CUDA_VISIBLE_DEVICES, 'GPUs are the launcher’s to bind, not the driver’s');
  // A plain-TCP peer (no TLS) is refused during the handshake, and learns nothing.
  const before = serverOf(rt).stats().rejected;
  const plain = net.createConnection(Number(address.split(':')[1]), '127.0.0.1');
  let replied = 0;
  plain.on('data', (b: Buffer) => (replied += b.length));
  plain.on('error', () => {});
  plain.write(frameOf({ t: 'hello', i: 1, b: { actorId: 'x', token: 'y' } }));
  await new Promise((r) => plain.once('close', r));
  t.true(replied < 64, `at most a TLS alert came back (${replied} bytes)`);
  await until(() => serverOf(rt).stats().rejected > before, 'the plain-TCP peer is counted as rejected');
  // Over TLS, a hello without the token and one with a wrong token: closed, no reply.
  for (const body of [{ actorId: 'a9', pid: 1 }, { actorId: 'a9', pid: 1, token: 'f'.repeat(32) }]) {
    const peer = await connectRaw(address);
    peer.socket.write(frameOf({ t: 'hello', i: 1, b: body }));
    await peer.closed;
    t.is(peer.received(), 0, JSON.stringify(body));
  }
  t.is(await get(a.inc.remote()), 8, 'the actor is unaffected');
});

/** The PEM certificate the runtime serves (what an actor pins). */
function tlsCertOf(rt: unknown): string {
  const server = (serverOf(rt) as unknown as { server: { _sharedCreds?: unknown } }).server;
  const ctx = (server as unknown as { _sharedCreds: { context: { getCertificate(): Buffer } } })._sharedCreds.context;
  const der = ctx.getCertificate();
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
}

test.serial('a joiner handed a wrong certificate fingerprint refuses to join and never sends the token', async (t) => {
  const wrong = makeSelfSignedIdentity().fingerprint256;
  const launcher = new CliWorkerLauncher('127.0.0.1', (env) => (env.TENSORWIRE_DRIVER_CERT_SHA256 = wrong));
  const rt = await init({ launcher, actorStartTimeoutMs: 20_000 });
  t.teardown(() => shutdown({ graceMs: 0 }));
  const err = await t.throwsAsync(spawn(Counter), { instanceOf: ActorDiedError });
  t.regex(err!.message, /exit code 1/);
  t.regex(launcher.stderr[0]!, /not the driver's .*refusing to join/);
  t.is(serverOf(rt).stats().authenticated, 0);
});

test.serial('node needs a launcher that places actors', async (t) => {
  await init();
  t.teardown(() => shutdown({ graceMs: 0 }));
  await t.throwsAsync(spawn(Counter, { node: 'gpu-07' }), { instanceOf: InvalidArgumentError, message: /node 'gpu-07' needs a launcher that places actors/ });
  await t.throwsAsync(spawn(Counter, { node: '' }), { instanceOf: InvalidArgumentError, message: /node must be a host name/ });
});

test.serial('init({ launcher }) names a registered launcher or fails naming the known ones', async (t) => {
  await t.throwsAsync(init({ launcher: 'slrum' }), { instanceOf: InvalidArgumentError, message: /no launcher named 'slrum'; did you mean 'slurm'\?/ });
  await t.throwsAsync(init({ launcher: 42 as unknown as string }), { instanceOf: InvalidArgumentError, message: /launcher must be/ });
});

test('tensorwire worker: usage errors exit 2 and name the missing setting; --token is refused', (t) => {
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [CLI, 'worker', ...args], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
  let r = run([]);
  t.is(r.status, 2);
  t.regex(r.stderr, /no driver address: set TENSORWIRE_DRIVER_ADDRESS or pass --driver/);
  r = run(['--driver', '10.0.0.1:4000', '--actor', 'a1@x', '--token', 'abc']);
  t.is(r.status, 2);
  t.regex(r.stderr, /--token is not accepted/);
  r = run(['--driver', '10.0.0.1:4000', '--actor', 'a1@x'], { TENSORWIRE_TOKEN: 'abc' });
  t.is(r.status, 2);
  t.regex(r.stderr, /no certificate fingerprint was given/);
  r = run(['--driver=10.0.0.1:4000', '--actor=a1@x', '--token-file=/nonexistent/token', '--cert-sha256=AB']);
  t.is(r.status, 2);
  t.regex(r.stderr, /cannot read the token file \/nonexistent\/token/);
  r = run(['--help']);
  t.is(r.status, 0);
  t.regex(r.stdout, /--cert-sha256/);
});
