/**
 * The "bare UCX ceiling": two plain Node processes that use only the addon (no tensorwire runtime,
 * no descriptor validation, no generation check). One registers a buffer of each size, the other
 * reads each one repeatedly with ucp_get_nbx, one Promise per read.
 */
import { fork } from 'node:child_process';
import * as path from 'node:path';

export interface BareReadOptions {
  /** Buffer sizes in bytes. */
  readonly sizes: readonly number[];
  /** Timed reads per size (after 3 warm-up reads); capped at 10 for sizes of 64 MiB or more. */
  readonly reps: number;
  /** true: the producer's buffers come from the UCX-allocated pool; false: Node-allocated memory. */
  readonly pool: boolean;
}

export interface BareReadRow {
  readonly bytes: number;
  readonly reps: number;
  /** Median latency of one read (submit to Promise settled), microseconds. */
  readonly medianUs: number;
  /** bytes / median latency, in GB/s (1e9 bytes per second). */
  readonly gbps: number;
}

export interface BareReadResult {
  readonly memory: 'pool' | 'node';
  readonly ucx: string;
  readonly rows: readonly BareReadRow[];
}

/** Messages of the bare benchmark between the parent and its two children. */
export type BareMessage =
  | { type: 'ready'; address: string; pid: number; regions: { addr: string; rkey: string; size: number }[] }
  | { type: 'done'; ucx: string; rows: BareReadRow[] }
  | { type: 'error'; message: string };

/** Run the bare benchmark; resolves with the median latency and GB/s per size. */
export async function runBareUcxRead(options: BareReadOptions): Promise<BareReadResult> {
  const script = path.join(__dirname, 'bare-read-child.js');
  const sizes = options.sizes.map((s) => Math.max(0, Math.floor(s)));
  const memory = options.pool ? 'pool' : 'node';
  const producer = fork(script, ['producer', memory, JSON.stringify(sizes)], { stdio: 'inherit' });
  const consumer = fork(script, ['consumer', String(Math.max(1, options.reps))], { stdio: 'inherit' });
  const kill = () => {
    for (const c of [producer, consumer]) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  try {
    const result = await new Promise<BareReadResult>((resolve, reject) => {
      const onExit = (who: string) => (code: number | null, sig: string | null) =>
        reject(new Error(`bare UCX read: the ${who} exited early (${sig ?? code})`));
      const producerExit = onExit('producer');
      const consumerExit = onExit('consumer');
      producer.on('exit', producerExit);
      consumer.on('exit', consumerExit);
      producer.on('message', (m: BareMessage) => {
        if (m.type === 'ready') consumer.send(m);
        else if (m.type === 'error') reject(new Error(`bare UCX read (producer): ${m.message}`));
      });
      consumer.on('message', (m: BareMessage) => {
        if (m.type === 'error') reject(new Error(`bare UCX read (consumer): ${m.message}`));
        else if (m.type === 'done') {
          producer.off('exit', producerExit);
          consumer.off('exit', consumerExit);
          resolve({ memory, ucx: m.ucx, rows: m.rows });
        }
      });
    });
    for (const c of [producer, consumer]) c.send({ type: 'exit' });
    await Promise.all([producer, consumer].map((c) => new Promise((r) => (c.exitCode !== null ? r(0) : c.once('exit', r)))));
    return result;
  } finally {
    kill();
  }
}
