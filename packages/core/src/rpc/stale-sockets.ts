/**
 * The driver's Unix socket lives in a private directory named after the driver's pid. A
 * driver that died without cleaning up (SIGKILL, a crash) leaves it behind; the next driver
 * removes such leftovers, touching only names of this exact pattern, owned by this user,
 * whose pid is gone and whose socket no longer accepts connections (a pid can be of another
 * pid namespace when containers share a temp directory).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

/** Prefix of the socket directory: `<tmpdir>/tensorwire-ctl-<pid>-XXXXXX/`. */
export const socketDirPrefix = (pid: number): string => `tensorwire-ctl-${pid}-`;
/** The socket inside that directory. */
export const SOCKET_NAME = 'control.sock';

/** fs.mkdtemp appends six characters from [A-Za-z0-9]. */
const DIR_PATTERN = /^tensorwire-ctl-(\d+)-[A-Za-z0-9]{6}$/;
/** What versions before the private directory created: a bare socket in the temp directory. */
const OLD_SOCKET_PATTERN = /^tensorwire-(\d+)-[0-9a-f]{8}\.sock$/;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, but someone else's process.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether something still listens on the Unix socket `p` (any doubt counts as yes). */
function listening(p: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const probe = net.createConnection(p);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT'));
  });
}

/**
 * Remove sockets (and their directories) left in `dir` by drivers that are no longer running.
 * Returns the paths removed. Never throws: a leftover that cannot be removed is left alone.
 */
export async function removeStaleSockets(dir: string, isAlive: (pid: number) => boolean = pidAlive): Promise<string[]> {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const uid = process.getuid?.();
  const removed: string[] = [];
  for (const name of names) {
    const dirMatch = DIR_PATTERN.exec(name);
    const m = dirMatch ?? OLD_SOCKET_PATTERN.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    const p = path.join(dir, name);
    try {
      const st = fs.lstatSync(p);
      if (uid !== undefined && st.uid !== uid) continue; // another user's: not ours to remove
      if (dirMatch) {
        if (!st.isDirectory()) continue;
        // Only what a driver creates there: the socket, then the directory if that left it empty
        // (rmdir fails on anything else, and the directory is then kept).
        const sock = path.join(p, SOCKET_NAME);
        if (fs.lstatSync(sock, { throwIfNoEntry: false })?.isSocket()) {
          if (await listening(sock)) continue;
          fs.unlinkSync(sock);
        }
        fs.rmdirSync(p);
      } else {
        if (!st.isSocket() || (await listening(p))) continue;
        fs.unlinkSync(p);
      }
      removed.push(p);
    } catch {
      /* removed meanwhile by another driver, or not removable: leave it */
    }
  }
  return removed;
}
