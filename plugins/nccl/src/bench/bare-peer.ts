/**
 * One rank of the bare-NCCL ping-pong (bare.ts): a plain Node process that loads only this
 * package's addon (through openNccl) and @tensorwire/cuda for the device buffer and the stream.
 * Rank 0 makes the NCCL id and hands it to the parent, which relays it to rank 1.
 */
import { Tensor } from '@tensorwire/core';
import { Stream } from '@tensorwire/cuda';
import { openNccl } from '../library';

interface RunMessage {
  kind: 'run';
  uniqueId?: Uint8Array;
  sizes: number[];
  reps: number;
  warmup: number;
}

const rank = Number(process.argv[2]) as 0 | 1;
const send = (m: unknown) => process.send?.(m);

async function run(m: RunMessage): Promise<void> {
  const nccl = openNccl();
  const max = Math.max(...m.sizes);
  const buffer = Tensor.empty([max], 'uint8', { device: 'cuda:0' });
  const stream = new Stream(0);
  const uniqueId = m.uniqueId ?? new Uint8Array(nccl.binding.uniqueId());
  if (rank === 0) send({ kind: 'uid', uniqueId });
  // Rank 0 passes each size's reps per round trip; each needs every rep of the peer.
  const samples = await nccl.binding.barePingPong({ uniqueId, rank, device: 0, stream: stream.handle, ptr: buffer.devicePtr!, sizes: m.sizes, reps: m.reps, warmup: m.warmup });
  stream.destroy();
  buffer.release();
  send({ kind: 'result', samples, version: nccl.version, mock: nccl.mock });
}

process.on('message', (m: RunMessage) => {
  if (m?.kind === 'run') run(m).catch((err: Error) => send({ kind: 'error', message: err.message, code: (err as { code?: string }).code }));
});
send({ kind: 'ready' });
