/**
 * The control server on its own (no actors): strangers are closed without a reply, logged
 * rate-limited, capped and timed out; authenticated peers are held to maxFrameBytes; the Unix
 * socket is private. Serial: one test changes the process umask.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ControlServer, type ControlServerLimits, type Hello } from './control-server';
import { FrameReader } from './frame';
import { listenError } from './listen-errors';
import { OutOfBandSerializer } from '../objects/serializer';
import { InvalidArgumentError, RuntimeStateError } from '../errors/errors';
import { makeSelfSignedIdentity } from './self-signed-cert';
import { MemoryLogger, connectRaw, frameOf, until, writeRaw, type RawPeer } from '../test/fixtures/test-peer';
import type { ExecutionContext } from 'ava';

const serializer = new OutOfBandSerializer();
/** A clock that never moves: the rate limiter then lets exactly one warning through. */
const frozen = { now: () => 0 };

async function startServer(t: ExecutionContext, limits: ControlServerLimits = {}, host = '127.0.0.1') {
  const logger = new MemoryLogger();
  const hellos: Hello[] = [];
  const server = new ControlServer(serializer, logger, (h) => {
    hellos.push(h);
    return h.actorId === 'a1' ? { welcome: h.actorId } : undefined;
  }, { clock: frozen, ...limits });
  // On TCP with TLS, as the runtime runs it (test-peer's connectRaw speaks TLS to host:port).
  await server.start({ host, tls: host === 'unix' ? undefined : makeSelfSignedIdentity() });
  t.teardown(() => server.stop());
  return { server, logger, hellos };
}

/** Send `data` as a stranger; resolves with the bytes the server sent back before closing. */
async function strangerSends(address: string, data: Buffer): Promise<number> {
  const peer = await connectRaw(address);
  writeRaw(peer, data);
  await peer.closed;
  return peer.received();
}

test.serial('strangers are closed without a single byte of reply, and logged once (rate-limited, no stacks)', async (t) => {
  const { server, logger } = await startServer(t);
  const attacks: Record<string, Buffer> = {
    'hello without a body': frameOf({ t: 'hello', i: 1 }),
    'hello without a token': frameOf({ t: 'hello', i: 1, b: { actorId: 'a1' } }),
    'hello with a wrong token of the right length': frameOf({ t: 'hello', i: 1, b: { actorId: 'a1', token: '0'.repeat(server.token.length) } }),
    'hello with a longer token': frameOf({ t: 'hello', i: 1, b: { actorId: 'a1', token: `${server.token}0` } }),
    'another message type': frameOf({ t: 'call', i: 1, b: {} }),
    'a reply': frameOf({ r: 1, b: 1 }),
    'an HTTP request (its first bytes read as a huge length)': Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
    'a small frame of garbage': Buffer.concat([Buffer.from([16, 0, 0, 0]), Buffer.alloc(16, 0xab)]),
  };
  for (const [what, data] of Object.entries(attacks)) t.is(await strangerSends(server.address, data), 0, what);
  const n = Object.keys(attacks).length;
  t.is(server.stats().rejected, n);
  t.is(server.stats().pending, 0);
  const warnings = logger.lines.filter((l) => l.includes('rejected'));
  t.is(warnings.length, 1, 'one warning per interval');
  await server.stop();
  t.regex(logger.lines.at(-1)!, new RegExp(`and ${n - 1} more`), 'the suppressed ones are counted');
  t.false(logger.lines.some((l) => / at .*\.js:\d+/.test(l)), 'no stack traces in the log');
});

test.serial('the right token is accepted; a hello the runtime refuses is closed', async (t) => {
  const { server, hellos } = await startServer(t);
  const peer = await connectRaw(server.address);
  const replies: unknown[] = [];
  const reader = new FrameReader((f) => replies.push(serializer.decode(f)));
  peer.socket.on('data', (c: Buffer) => reader.push(c));
  writeRaw(peer, frameOf({ t: 'hello', i: 7, b: { actorId: 'a1', token: server.token, pid: 42 } }));
  await until(() => replies.length === 1, 'the hello reply');
  t.deepEqual(replies[0], { r: 7, b: { welcome: 'a1' } });
  t.deepEqual(hellos, [{ actorId: 'a1', pid: 42 }]);
  t.deepEqual({ ...server.stats(), rejected: 0 }, { pending: 0, authenticated: 1, rejected: 0 });
  t.is(await strangerSends(server.address, frameOf({ t: 'hello', i: 1, b: { actorId: 'nobody', token: server.token } })), 0);
  peer.socket.destroy();
});

test.serial('strangers beyond the cap are closed at once; the others when their hello deadline passes', async (t) => {
  const { server } = await startServer(t, { maxPending: 3, helloTimeoutMs: 60_000 });
  const peers: RawPeer[] = [];
  for (let i = 0; i < 8; i++) peers.push(await connectRaw(server.address));
  await until(() => peers.filter((p) => p.isClosed()).length >= 5, 'five closed by the cap');
  t.is(server.stats().pending, 3);
  t.deepEqual(peers.map((p) => p.isClosed()), [false, false, false, true, true, true, true, true], 'the first three are kept');
  for (const p of peers) p.socket.destroy();

  const short = await startServer(t, { helloTimeoutMs: 200 });
  const idle = await Promise.all([0, 1, 2].map(() => connectRaw(short.server.address)));
  await Promise.all(idle.map((p) => p.closed)); // the deadline closes them (no test timeout needed)
  t.is(short.server.stats().pending, 0);
  t.is(short.server.stats().rejected, 3);
});

test.serial('an authenticated peer that sends a frame above maxFrameBytes is closed and logged, with nothing allocated', async (t) => {
  const { server, logger } = await startServer(t, { maxFrameBytes: 64 * 1024 });
  const peer = await connectRaw(server.address);
  writeRaw(peer, frameOf({ t: 'hello', i: 1, b: { actorId: 'a1', token: server.token } }));
  await until(() => peer.received() > 0, 'the hello reply');
  const before = process.memoryUsage().arrayBuffers;
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(0xf000_0000); // 3.75 GiB announced
  writeRaw(peer, Buffer.concat([prefix, Buffer.alloc(1024)]));
  await peer.closed;
  const grew = process.memoryUsage().arrayBuffers - before;
  t.true(grew < 64 * 1024 * 1024, `arrayBuffers grew by ${grew} bytes`);
  t.true(logger.lines.some((l) => l.startsWith('error') && l.includes('actor a1') && /exceeds the limit of 65,536 bytes/.test(l)), logger.lines.join('\n'));
});

test.serial('the Unix socket is private whatever the umask, and its directory goes away on stop', async (t) => {
  const old = process.umask(0);
  let server: ControlServer;
  try {
    ({ server } = await startServer(t, {}, 'unix'));
  } finally {
    process.umask(old);
  }
  const dir = path.dirname(server.address);
  t.is(path.dirname(dir), os.tmpdir());
  t.regex(path.basename(dir), new RegExp(`^tensorwire-ctl-${process.pid}-`), 'the pid is in the name (for stale clean-up)');
  t.is(fs.statSync(dir).mode & 0o777, 0o700);
  t.is(fs.statSync(server.address).mode & 0o077, 0, 'no access for group or others');
  await server.stop();
  t.false(fs.existsSync(dir));
});

test.serial('a driver process that exits without stop() (an idle driver does) removes its socket directory', (t) => {
  const script = `
    const { ControlServer } = require(${JSON.stringify(path.join(__dirname, 'control-server.js'))});
    const { OutOfBandSerializer } = require(${JSON.stringify(path.join(__dirname, '..', 'objects', 'serializer.js'))});
    const server = new ControlServer(new OutOfBandSerializer(), console, () => undefined);
    server.start().then(() => console.log(server.address)); // then nothing keeps the process alive
  `;
  const address = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim();
  t.regex(address, /tensorwire-ctl-\d+-\w{6}\/control\.sock$/);
  t.false(fs.existsSync(path.dirname(address)));
});

test.serial('listen errors are typed and name the address and the fix', async (t) => {
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => taken.close());
  const port = (taken.address() as net.AddressInfo).port;
  const server = new ControlServer(serializer, new MemoryLogger(), () => undefined);
  const err = await t.throwsAsync(server.start({ host: '127.0.0.1', port }), { instanceOf: RuntimeStateError });
  t.regex(err!.message, new RegExp(`127\\.0\\.0\\.1:${port}.*EADDRINUSE.*init\\(\\{ port \\}\\)`));
  // Resolution and permission errors, mapped without touching the network:
  const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code });
  t.true(listenError(errno('ENOTFOUND'), 'nohost:0', 'nohost') instanceof InvalidArgumentError);
  t.regex(listenError(errno('ENOTFOUND'), 'nohost:0', 'nohost').message, /nohost.*does not resolve.*127\.0\.0\.1/);
  t.regex(listenError(errno('EACCES'), 'h:80', 'h').message, /h:80.*1024/);
  t.true(listenError(errno('EADDRNOTAVAIL'), 'h:1', 'h') instanceof InvalidArgumentError);
});
