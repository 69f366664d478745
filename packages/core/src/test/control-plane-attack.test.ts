/**
 * An attack on the control plane over TCP, on 127.0.0.1 only, while a real workload runs: a
 * huge length prefix followed by tens of MiB, garbage, hellos without and with a wrong token,
 * and more idle connections than the cap. The driver's memory must stay bounded, every
 * stranger must be closed (over the cap at once, the rest at the hello deadline), every call
 * of the workload must succeed, and an actor spawned during the flood must still start (its
 * connection retried once the strangers' deadline frees a slot). Bounded loops only.
 */
import test from 'ava';
import * as crypto from 'node:crypto';
import { init, shutdown, spawn, get, TOKENS } from '../index';
import type { ControlServer } from '../rpc/control-server';
import { MAX_PENDING_CONNECTIONS } from '../rpc/limits';
import { MemoryLogger, connectRaw, frameOf, until, writeRaw, type RawPeer } from './fixtures/test-peer';
import { Counter } from './fixtures/actors';

const MiB = 1024 * 1024;
const HUGE_SEND_BYTES = 48 * MiB;
const IDLE_CONNECTIONS = 200;
/** Shortened for the test (default 5 s): long enough that the flood is over before it passes. */
const HELLO_TIMEOUT_MS = 3_000;
const WARM_CALLS = 12_000;

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const memory = (): { rss: number; arrayBuffers: number } => {
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, arrayBuffers: m.arrayBuffers };
};
const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;

/** Every raw socket opened, destroyed at the end whatever happens (the test stops by itself). */
const opened: RawPeer[] = [];
async function open(address: string): Promise<RawPeer> {
  const peer = await connectRaw(address);
  opened.push(peer);
  return peer;
}
/** Wait (bounded) for the driver to hang up on `peer`. */
const hungUp = (peer: RawPeer, what: string): Promise<void> => until(() => peer.isClosed(), `the driver closes ${what}`);

/** ff ff ff ff, then up to HUGE_SEND_BYTES in 64 KiB chunks (one reused buffer), until the server hangs up. */
async function hugePrefix(address: string): Promise<number> {
  const peer = await open(address);
  writeRaw(peer, Buffer.from([0xff, 0xff, 0xff, 0xff]));
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  let sent = 0;
  while (sent < HUGE_SEND_BYTES && !peer.isClosed() && !peer.socket.destroyed) {
    sent += chunk.length;
    if (!peer.socket.write(chunk)) {
      await Promise.race([new Promise((r) => peer.socket.once('drain', r)), peer.closed]);
    }
  }
  await hungUp(peer, 'the huge prefix');
  return sent;
}

/** Send `data` as a stranger and wait for the server to hang up; returns the bytes it replied. */
async function strangerSends(address: string, data: Buffer): Promise<number> {
  const peer = await open(address);
  writeRaw(peer, data);
  await hungUp(peer, 'a stranger');
  return peer.received();
}

test.serial('an attack over TCP on 127.0.0.1 leaves memory bounded, closes every stranger and spares the workload', async (t) => {
  const logger = new MemoryLogger();
  process.env.TENSORWIRE_HELLO_TIMEOUT_MS = String(HELLO_TIMEOUT_MS);
  let server: ControlServer;
  try {
    const rt = await init({ host: '127.0.0.1', providers: [{ token: TOKENS.Logger, useValue: logger }] });
    server = (rt as unknown as { server: ControlServer }).server;
  } finally {
    delete process.env.TENSORWIRE_HELLO_TIMEOUT_MS;
  }
  t.teardown(shutdown);
  t.teardown(() => opened.splice(0).forEach((p) => p.socket.destroy()));
  const address = server.address;
  t.regex(address, /^127\.0\.0\.1:\d+$/);
  const a = await spawn(Counter);
  // Calls grow the driver's heap by tens of MiB over the first ~10 000 (then it levels off):
  // warm up first, so the baseline measures the attack and not that growth. Both figures
  // are taken with no call in flight (young-generation churn moves RSS by tens of MiB).
  let calls = 0;
  for (; calls < WARM_CALLS; calls++) await get(a.inc.remote());
  const before = memory();

  // The workload during the attack: a call, a breath, the next call (at most 20 000).
  let stop = false;
  const workload = (async () => {
    for (let i = 0; !stop && i < 20_000; i++) {
      await get(a.inc.remote());
      calls++;
      await new Promise((r) => setTimeout(r, 1));
    }
  })();

  const hugeSent = await hugePrefix(address);
  const replies = [
    await strangerSends(address, Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]), crypto.randomBytes(4096)])),
    await strangerSends(address, frameOf({ t: 'hello', i: 1, b: { actorId: 'actor-1', pid: 1 } })),
    await strangerSends(address, frameOf({ t: 'hello', i: 1, b: { actorId: 'actor-1', token: 'f'.repeat(32), pid: 1 } })),
  ];
  t.deepEqual(replies, [0, 0, 0], 'strangers get no reply at all');

  // More idle connections than the cap, at once.
  const idle: RawPeer[] = await Promise.all(Array.from({ length: IDLE_CONNECTIONS }, () => open(address)));
  const overCap = IDLE_CONNECTIONS - MAX_PENDING_CONNECTIONS;
  await until(() => idle.filter((p) => p.isClosed()).length >= overCap, `${overCap} connections closed by the cap`);
  const keptAfterFlood = idle.filter((p) => !p.isClosed()).length;
  const pendingAfterFlood = server.stats().pending;
  // A new actor, spawned while the strangers fill every slot: its connection is closed by the
  // cap until their deadline passes, and it tries again until it gets in.
  const b = await spawn(Counter);
  await until(() => idle.every((p) => p.isClosed()), 'the rest closed by the hello deadline');
  const pendingAfterDeadline = server.stats().pending;

  // The attacker's own sockets live in this process too: let them go before measuring.
  for (const p of opened.splice(0)) p.socket.destroy();
  idle.length = 0;
  stop = true;
  await workload;
  await new Promise((r) => setImmediate(r));
  const after = memory();
  t.is(await get(b.inc.remote(5)), 5, 'the actor spawned during the flood works');
  t.is(await get(a.value.remote()), calls, 'every call of the workload succeeded, in order');

  const rejected = server.stats().rejected;
  const warnings = logger.lines.filter((l) => l.startsWith('warn') && l.includes('rejected')).length;
  t.log(`RSS: ${mib(before.rss)} before, ${mib(after.rss)} after (${mib(after.rss - before.rss)})`);
  t.log(`arrayBuffers: ${mib(before.arrayBuffers)} before, ${mib(after.arrayBuffers)} after (${mib(after.arrayBuffers - before.arrayBuffers)})`);
  t.log(`huge prefix: ${mib(hugeSent)} written before the driver hung up (bound ${mib(HUGE_SEND_BYTES)})`);
  t.log(`idle flood of ${IDLE_CONNECTIONS}: ${keptAfterFlood} kept after the cap (server pending ${pendingAfterFlood}), ${pendingAfterDeadline} after the ${HELLO_TIMEOUT_MS} ms hello deadline`);
  t.log(`workload: ${calls - WARM_CALLS} calls during the attack (after ${WARM_CALLS} to warm up), all succeeded; strangers rejected: ${rejected}; warning lines logged about them: ${warnings}`);

  t.true(after.rss - before.rss < 64 * MiB, 'RSS bounded');
  t.true(after.arrayBuffers - before.arrayBuffers < 64 * MiB, 'arrayBuffers bounded');
  t.true(keptAfterFlood <= MAX_PENDING_CONNECTIONS && pendingAfterFlood <= MAX_PENDING_CONNECTIONS, 'the cap holds');
  t.is(pendingAfterDeadline, 0);
  t.true(rejected >= IDLE_CONNECTIONS + 4);
  t.true(warnings >= 1 && warnings < 20, 'rejections are logged, rate-limited');
  t.true(calls > WARM_CALLS);
});
