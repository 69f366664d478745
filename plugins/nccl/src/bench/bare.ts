/**
 * The bare-NCCL ceiling: two plain Node processes on cuda:0 ping-pong a device buffer with
 * ncclSend/ncclRecv and nothing of the transport (native/src/bare_bench.h); one-way = round
 * trip / 2. Both ranks on one GPU get what NCCL needs for that (shared-gpu.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { summarize, type PathReport } from './results';

export interface BareOptions {
  readonly sizes: readonly number[];
  readonly reps: (size: number) => number;
  readonly warmup?: number;
}

/** Environment that lets two ranks share one GPU with the NCCL found (set per rank). */
function sharedGpuEnv(rank: number): NodeJS.ProcessEnv {
  const env = { ...process.env };
  env.NCCL_MULTI_RANK_GPU_ENABLE ??= '1'; // NCCL >= 2.30
  env.NCCL_HOSTID ??= `tensorwire-bench-rank-${rank}`; // older NCCL: two "hosts"
  return env;
}

export async function runBareNccl(options: BareOptions): Promise<PathReport> {
  const script = path.join(__dirname, 'bare-peer.js');
  const peers: ChildProcess[] = [0, 1].map((rank) => fork(script, [String(rank)], { env: sharedGpuEnv(rank), stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [], serialization: 'advanced' }));
  const results: PathReport['results'][number][] = [];
  try {
    let version = '';
    for (const size of options.sizes) {
      // One run per size (a fresh communicator each): reps differ by size.
      const samples = await new Promise<number[]>((resolve, reject) => {
        const listeners: Array<() => void> = [];
        const cleanup = () => listeners.splice(0).forEach((f) => f());
        peers.forEach((p, rank) => {
          const onMessage = (m: { kind: string; uniqueId?: Uint8Array; samples?: number[][]; message?: string; version?: string }) => {
            if (m.kind === 'uid') peers[1].send({ kind: 'run', uniqueId: m.uniqueId, sizes: [size], reps: options.reps(size), warmup: options.warmup ?? 3 });
            else if (m.kind === 'result' && rank === 0) {
              version = m.version ?? version;
              cleanup();
              resolve(m.samples![0]);
            } else if (m.kind === 'error') {
              cleanup();
              reject(new Error(`bare NCCL rank ${rank}: ${m.message}`));
            }
          };
          const onExit = (code: number | null, signal: string | null) => {
            cleanup();
            reject(new Error(`bare NCCL rank ${rank} exited with ${signal ?? `code ${code}`}`));
          };
          p.on('message', onMessage);
          p.on('exit', onExit);
          listeners.push(() => p.off('message', onMessage), () => p.off('exit', onExit));
        });
        peers[0].send({ kind: 'run', sizes: [size], reps: options.reps(size), warmup: options.warmup ?? 3 });
      });
      results.push(summarize(size, samples.map((ns) => ns / 2000)));
    }
    return { path: 'bare NCCL send/recv, two plain processes (ceiling)', results, note: version ? `NCCL ${version}` : undefined };
  } finally {
    for (const p of peers) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
}
