/**
 * The "bare Gloo ceiling": two plain Node processes that use only the addon (no tensorwire
 * runtime) bounce a buffer back and forth; the one-way time is half the round trip.
 */
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { KvServer } from './ipc-rendezvous';
import { ADDON_PATH, loadNative } from '../native';
import { resolveHost } from '../options';

export interface BarePingPongOptions {
  /** Message sizes in bytes, e.g. [1024, 1 << 20, 64 << 20, 256 << 20]. */
  readonly sizes: readonly number[];
  /** Timed round trips per size. */
  readonly reps: number;
  /** Untimed round trips before each size (default 3). */
  readonly warmup?: number;
  /** IPv4 address (default: TENSORWIRE_GLOO_HOST or 127.0.0.1). */
  readonly host?: string;
  /** Gloo timeout per operation in ms (default 60000). */
  readonly timeoutMs?: number;
}

export interface BarePingPongResult {
  /** Bytes per message. */
  readonly size: number;
  readonly reps: number;
  /** Median of (round trip / 2), microseconds: send on one side -> recv done on the other. */
  readonly medianOneWayUs: number;
  /** Fastest one-way time, microseconds. */
  readonly minOneWayUs: number;
  readonly medianRoundTripUs: number;
  /** size / median one-way time, in GB/s (1e9 bytes per second). */
  readonly gbps: number;
}

export interface BarePingPongReport {
  readonly transport: 'gloo (bare addon)';
  readonly glooVersion: string;
  readonly host: string;
  readonly results: readonly BarePingPongResult[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Run the bare ping-pong between two fresh processes; resolves with one result per size. */
export async function runBareGlooPingPong(options: BarePingPongOptions): Promise<BarePingPongReport> {
  const binding = loadNative(); // fails early with the actionable error when the addon is missing
  const sizes = [...options.sizes];
  const reps = Math.max(1, Math.floor(options.reps));
  const warmup = Math.max(0, Math.floor(options.warmup ?? 3));
  const host = options.host ?? resolveHost(undefined);
  const timeoutMs = options.timeoutMs ?? 60000;
  const addon = process.env.TENSORWIRE_GLOO_ADDON ? path.resolve(process.env.TENSORWIRE_GLOO_ADDON) : ADDON_PATH;
  const script = path.join(__dirname, 'pingpong-peer.js');
  const kv = new KvServer();
  const peers = [0, 1].map((rank) =>
    fork(script, [addon, String(rank), host, String(timeoutMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] }),
  );
  peers.forEach((p) => kv.serve(p));
  try {
    const samples = await new Promise<number[][]>((resolve, reject) => {
      let ready = 0;
      for (const [rank, p] of peers.entries()) {
        p.on('message', (m: { kind?: string; samples?: number[][]; message?: string; code?: string }) => {
          if (m?.kind === 'pp-ready' && ++ready === 2) peers.forEach((q) => q.send({ kind: 'pp-run', sizes, reps, warmup }));
          else if (m?.kind === 'pp-result' && m.samples) resolve(m.samples);
          else if (m?.kind === 'pp-error') reject(Object.assign(new Error(`bare ping-pong rank ${rank}: ${m.message}`), { code: m.code }));
        });
        p.on('exit', (code, signal) => {
          if (code !== 0) reject(new Error(`bare ping-pong rank ${rank} exited with ${signal ?? `code ${code}`}`));
        });
      }
    });
    const results = sizes.map((size, i): BarePingPongResult => {
      const rtUs = samples[i].map((ns) => ns / 1000);
      const oneWay = rtUs.map((us) => us / 2);
      const medianOneWayUs = median(oneWay);
      return {
        size,
        reps,
        medianOneWayUs,
        minOneWayUs: Math.min(...oneWay),
        medianRoundTripUs: median(rtUs),
        gbps: size / (medianOneWayUs * 1e-6) / 1e9,
      };
    });
    return { transport: 'gloo (bare addon)', glooVersion: binding.glooVersion, host, results };
  } finally {
    for (const p of peers) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
}
