/**
 * A bare peer process for the socket baselines: connects to the parent's Unix socket and, for
 * each request (u32 size), answers with that many bytes (the ping-pong and one-way transfer
 * the runtime's control plane is compared against). No tensorwire code here.
 */
import * as net from 'node:net';

const sock = net.createConnection(process.argv[2]!);
sock.setNoDelay(true);
const payloads = new Map<number, Buffer>();
let pending = Buffer.alloc(0);
sock.on('data', (chunk) => {
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  while (pending.length >= 4) {
    const n = pending.readUInt32LE(0);
    pending = pending.subarray(4);
    let p = payloads.get(n);
    if (!p) {
      p = Buffer.alloc(4 + n, 1);
      p.writeUInt32LE(n, 0);
      payloads.set(n, p);
    }
    sock.write(p);
  }
});
sock.on('close', () => process.exit(0));
