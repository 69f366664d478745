/**
 * Bare Unix-socket baselines measured in the same run as the runtime paths: a round trip of a
 * tiny message between two processes, and moving N bytes from one process to another. Both
 * warm up as the runtime paths do (harness/warmup.ts), so the ratios compare warm code with
 * warm code.
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { measurement, repsFor, sample, type Measurement } from '../harness/stats';
import { warmupFor } from '../harness/warmup';
import { LABELS } from '../harness/labels';

export async function socketBaselines(sizes: readonly number[], rttReps = 2000): Promise<{ rtt: Measurement; transfers: Measurement[] }> {
  const file = path.join(os.tmpdir(), `tw-bench-${process.pid}.sock`);
  fs.rmSync(file, { force: true });
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(file, r));
  const child = fork(path.join(__dirname, 'socket-peer.js'), [file], { stdio: 'inherit' });
  const sock = await new Promise<net.Socket>((r) => server.once('connection', r));
  sock.setNoDelay(true);

  // Request `n` bytes and resolve when all arrived (reassembled into one buffer, as a receiver must).
  let want = -1;
  let got = 0;
  let into: Buffer | null = null;
  let done: (() => void) | null = null;
  let head = Buffer.alloc(0);
  sock.on('data', (chunk: Buffer) => {
    if (want < 0) {
      head = Buffer.concat([head, chunk]);
      if (head.length < 4) return;
      want = head.readUInt32LE(0);
      into = Buffer.allocUnsafeSlow(want);
      chunk = head.subarray(4);
      head = Buffer.alloc(0);
      got = 0;
    }
    chunk.copy(into!, got);
    got += chunk.length;
    if (got >= want) {
      want = -1;
      const d = done;
      done = null;
      d?.();
    }
  });
  const request = (n: number): Promise<void> =>
    new Promise((resolve) => {
      done = resolve;
      const req = Buffer.allocUnsafe(4);
      req.writeUInt32LE(n, 0);
      sock.write(req);
    });

  const rtt = measurement(LABELS.socketRtt, 1, await sample(() => request(1), rttReps, warmupFor(1)));
  const transfers: Measurement[] = [];
  for (const n of sizes) transfers.push(measurement(LABELS.socket, n, await sample(() => request(n), repsFor(n), warmupFor(n))));
  sock.destroy();
  child.kill();
  server.close();
  fs.rmSync(file, { force: true });
  return { rtt, transfers };
}

/** memcpy of the same bytes within one process (Buffer.copy). */
export async function memcpyBaseline(sizes: readonly number[]): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (const n of sizes) {
    const src = Buffer.alloc(n, 3);
    const dst = Buffer.allocUnsafe(n);
    out.push(measurement(LABELS.memcpy, n, await sample(() => src.copy(dst), repsFor(n) * 2)));
  }
  return out;
}
