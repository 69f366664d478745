/**
 * The producer of the bare cross-process copy (forked by bare-copy.ts): allocates one tensor per
 * size, sends the IPC handle of each one's allocation (with its offset), and keeps the memory until
 * its parent goes.
 */
import { Tensor } from '@tensorwire/core';
import '@tensorwire/cuda';
import { allocationOf, ipcMemHandle } from '@tensorwire/cuda/internal';
import type { BareCopyMessage } from './bare-copy';

const send = (m: BareCopyMessage) => process.send!(m);
process.on('disconnect', () => process.exit(0));

try {
  const device = Number(process.argv[2]);
  const sizes = JSON.parse(process.argv[3]) as number[];
  const keep: Tensor[] = [];
  const regions = sizes.map((bytes) => {
    const t = Tensor.zeros([bytes], { dtype: 'uint8', device: `cuda:${device}` });
    keep.push(t);
    const { base, offset } = allocationOf(t.deviceBuffer!);
    return { handle: [...ipcMemHandle(device, base)], offset, bytes };
  });
  send({ type: 'ready', regions });
} catch (e) {
  send({ type: 'error', message: (e as Error).message });
}
