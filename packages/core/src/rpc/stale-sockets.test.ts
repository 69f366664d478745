/**
 * Leftovers of dead drivers are removed; anything else (live drivers, other users' or other
 * programs' names, unexpected content) is left alone.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ControlServer } from './control-server';
import { SOCKET_NAME, removeStaleSockets, socketDirPrefix } from './stale-sockets';
import { OutOfBandSerializer } from '../objects/serializer';
import { MemoryLogger } from '../test/fixtures/test-peer';

/** Leave a socket file at `target` with nothing listening (as a killed driver does). */
async function deadSocket(target: string): Promise<void> {
  const live = `${target}.live`;
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(live, () => r()));
  fs.renameSync(live, target); // Node unlinks its own path on close, not this one
  await new Promise<void>((r) => server.close(() => r()));
}

test('only this pattern, with a dead pid, holding only a socket, is removed', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-stale-test-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const DEAD = 111;
  const LIVE = 222;
  const mk = (name: string): string => {
    fs.mkdirSync(path.join(tmp, name));
    return name;
  };
  const removed = [mk(`tensorwire-ctl-${DEAD}-aB3xYz`)];
  await deadSocket(path.join(tmp, removed[0]!, SOCKET_NAME));
  removed.push(`tensorwire-${DEAD}-0123abcd.sock`); // what older versions left
  await deadSocket(path.join(tmp, removed[1]!));
  const kept = [
    mk(`tensorwire-ctl-${LIVE}-aB3xYz`), // its driver runs
    mk(`tensorwire-ctl-${process.pid}-aB3xYz`), // ours
    mk(`tensorwire-ctl-${DEAD}-aB3xY`), // not what mkdtemp makes
    mk(`tensorwire-ctl-${DEAD}-aB3xYzz`),
    mk(`tensorwire-doctor-${DEAD}-aB3xYz`), // another tool's
    mk(`tensorwire-ctl-${DEAD}-extra1`), // holds something else too
  ];
  fs.writeFileSync(path.join(tmp, kept.at(-1)!, 'notes.txt'), 'keep me');
  fs.writeFileSync(path.join(tmp, `tensorwire-${DEAD}-89abcdef.sock`), 'a regular file, not a socket');
  kept.push(`tensorwire-${DEAD}-89abcdef.sock`);
  fs.symlinkSync(path.join(tmp, kept[0]!), path.join(tmp, `tensorwire-ctl-${DEAD}-sym123`));
  kept.push(`tensorwire-ctl-${DEAD}-sym123`);

  // A driver whose pid looks dead from here (another pid namespace) but whose socket answers.
  const elsewhere = mk(`tensorwire-ctl-${DEAD}-nsPid1`);
  const other = net.createServer();
  await new Promise<void>((r) => other.listen(path.join(tmp, elsewhere, SOCKET_NAME), () => r()));
  t.teardown(() => other.close());
  kept.push(elsewhere);

  const gone = await removeStaleSockets(tmp, (pid) => pid === LIVE);
  t.deepEqual(gone.map((p) => path.basename(p)).sort(), [...removed].sort());
  for (const name of removed) t.false(fs.existsSync(path.join(tmp, name)), name);
  for (const name of kept) t.true(fs.existsSync(path.join(tmp, name)), name);
  t.is(fs.readFileSync(path.join(tmp, `tensorwire-ctl-${DEAD}-extra1`, 'notes.txt'), 'utf8'), 'keep me');
  t.true(fs.existsSync(path.join(tmp, elsewhere, SOCKET_NAME)), 'a socket that answers is kept');
});

test('a driver starting on a Unix socket removes what a dead driver left in the temp directory', async (t) => {
  const dead = spawnSync(process.execPath, ['-e', '']).pid!; // a pid that has exited
  const leftover = fs.mkdtempSync(path.join(os.tmpdir(), socketDirPrefix(dead)));
  t.teardown(() => fs.rmSync(leftover, { recursive: true, force: true }));
  await deadSocket(path.join(leftover, SOCKET_NAME));
  const server = new ControlServer(new OutOfBandSerializer(), new MemoryLogger(), () => undefined);
  await server.start();
  t.teardown(() => server.stop());
  t.false(fs.existsSync(leftover));
  t.true(fs.existsSync(server.address));
});
