/**
 * One side of the bare Gloo ping-pong: loads ONLY the addon (path in argv) and node built-ins,
 * no tensorwire runtime. Forked by runBareGlooPingPong, which serves the rendezvous over IPC.
 *
 * argv: addonPath rank host timeoutMs
 * Parent sends { kind: 'pp-run', sizes, reps, warmup }; rank 0 replies
 * { kind: 'pp-result', samples: number[][] } (round-trip times in ns, per size).
 */
import type { NativeBinding } from '../native';
import { ipcRendezvousStore } from './ipc-rendezvous';

interface RunMessage {
  kind: 'pp-run';
  sizes: number[];
  reps: number;
  warmup: number;
}

async function main(): Promise<void> {
  const [addonPath, rankArg, host, timeoutArg] = process.argv.slice(2);
  const rank = Number(rankArg);
  const peer = 1 - rank;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const addon = require(addonPath) as NativeBinding;
  const store = ipcRendezvousStore();
  const group = new addon.GlooGroup({ name: 'bare-pingpong', rank, size: 2, hostname: host, timeoutMs: Number(timeoutArg) });
  await group.connect((op, keys, value, timeoutMs, done) => {
    const work =
      op === 'set' ? store.set(keys[0], value ?? new Uint8Array(0)) : op === 'get' ? store.get(keys[0], timeoutMs) : store.wait(keys, timeoutMs);
    (work as Promise<Uint8Array | void>).then((v) => done(null, v instanceof Uint8Array ? v : undefined), (e) => done(e));
  });
  const run = await new Promise<RunMessage>((resolve) => {
    process.on('message', (m: unknown) => {
      if ((m as RunMessage)?.kind === 'pp-run') resolve(m as RunMessage);
    });
    process.send!({ kind: 'pp-ready' });
  });
  let tag = 0;
  const samples: number[][] = [];
  for (const size of run.sizes) {
    const buf = new Uint8Array(size).fill(1 + (size % 251));
    const times: number[] = [];
    for (let i = 0; i < run.warmup + run.reps; i++) {
      const ping = tag++;
      const pong = tag++;
      if (rank === 0) {
        const t0 = process.hrtime.bigint();
        await group.send([buf], peer, ping);
        await group.recv([buf], peer, pong);
        const dt = Number(process.hrtime.bigint() - t0);
        if (i >= run.warmup) times.push(dt);
      } else {
        await group.recv([buf], peer, ping);
        await group.send([buf], peer, pong);
      }
    }
    samples.push(times);
  }
  await group.barrier();
  await group.destroy();
  if (rank === 0) process.send!({ kind: 'pp-result', samples });
  process.disconnect();
}

main().catch((err: Error & { code?: string }) => {
  if (process.send) process.send({ kind: 'pp-error', message: err.message, code: err.code });
  process.exitCode = 1;
  process.disconnect?.();
});
