/**
 * The TCP addresses a process listens on, read from /proc (Linux) so the tests need no `ss`:
 * the socket inodes among /proc/<pid>/fd, matched with the LISTEN rows of /proc/<pid>/net/tcp
 * and tcp6 (that process's network namespace).
 */
import * as fs from 'node:fs';

const LISTEN = '0A';

/** Inodes of the sockets `pid` has open (fd links read 'socket:[inode]'). */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // the fd was closed meanwhile
    }
  }
  return inodes;
}

const V4_MAPPED = Buffer.from('00000000000000000000ffff', 'hex');

/** A /proc/net/tcp address: the IP in 32-bit little-endian words (hex), ':', the port (hex). */
function decode(hexAddr: string): ListeningSocket {
  const [hex, port] = hexAddr.split(':');
  const bytes = Buffer.concat(hex.match(/.{8}/g)!.map((w) => Buffer.from(w, 'hex').reverse()));
  let ip: string;
  if (bytes.length === 4) ip = bytes.join('.');
  else if (bytes.subarray(0, 12).equals(V4_MAPPED)) ip = `::ffff:${bytes.subarray(12).join('.')}`;
  else ip = new URL(`http://[${bytes.toString('hex').match(/.{4}/g)!.join(':')}]/`).hostname.slice(1, -1); // '::1' form
  return { ip, port: parseInt(port, 16) };
}

export interface ListeningSocket {
  readonly ip: string;
  readonly port: number;
}

/** Every TCP socket that `pid` has in the LISTEN state. */
export function listeningSockets(pid: number): ListeningSocket[] {
  const inodes = socketInodes(pid);
  const out: ListeningSocket[] = [];
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue; // no IPv6 in this kernel
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (f.length < 10 || f[3] !== LISTEN || !inodes.has(f[9])) continue;
      out.push(decode(f[1]));
    }
  }
  return out;
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopbackIp(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}
