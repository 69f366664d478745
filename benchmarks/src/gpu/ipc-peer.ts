/**
 * The other process of the bare cross-process copy (ipc-baseline.ts): allocates one device
 * buffer of the largest size, sends its IPC handle and offset to the parent, and keeps the
 * memory until told to exit. It does nothing per copy: the parent reads its memory.
 */
import '@tensorwire/cuda';
import { Tensor } from '@tensorwire/core';
import { allocationOf, ipcMemHandle } from '@tensorwire/cuda/internal';

const bytes = Number(process.argv[2]);
const t = Tensor.empty([bytes], 'uint8', { device: 'cuda:0' });
const { base, offset } = allocationOf(t.deviceBuffer!);
process.send!({ handle: [...ipcMemHandle(0, base)], offset });
process.on('message', () => {
  t.release();
  process.exit(0);
});
