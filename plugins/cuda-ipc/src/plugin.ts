/** The `cuda-ipc` transport plugin: one-sided CUDA IPC between processes of one host. */
import type { Availability, EndpointContext, OneSidedTransportPlugin } from '@tensorwire/core';
import { availability } from '@tensorwire/cuda';
import { CudaIpcEndpoint } from './endpoint';

/** What fixes a machine where CUDA cannot be used. */
export const CUDA_IPC_FIX =
  'cuda-ipc needs an NVIDIA GPU and its driver on this host (see npx tensorwire doctor, @tensorwire/cuda); ' +
  "without a GPU, run its code paths on the mock driver: TENSORWIRE_LIBCUDA=$(node -p \"require('@tensorwire/cuda/testing').mockLibraryPath\")";

export const cudaIpcPlugin: OneSidedTransportPlugin = {
  name: 'cuda-ipc',
  kind: 'one-sided',
  supports: { devices: ['cuda'] },

  /** Available when @tensorwire/cuda loads a driver that sees at least one device; never throws. */
  async probe(): Promise<Availability> {
    try {
      const a = await availability();
      if (!a.available) return { available: false, detail: `CUDA is not available here: ${a.detail}`, fix: a.fix ?? CUDA_IPC_FIX };
      if (a.devices.length === 0) return { available: false, detail: 'the CUDA driver sees no device', fix: CUDA_IPC_FIX };
      if (process.platform !== 'linux') return { available: false, detail: `CUDA IPC runs on Linux, not ${process.platform}`, fix: 'run on Linux' };
      const names = a.devices.map((d) => `cuda:${d.index} ${d.name}`).join(', ');
      return { available: true, detail: `CUDA IPC on ${a.devices.length} device(s): ${names} (${a.detail})` };
    } catch (e) {
      return { available: false, detail: e instanceof Error ? e.message : String(e), fix: CUDA_IPC_FIX };
    }
  },

  async createEndpoint(ctx: EndpointContext): Promise<CudaIpcEndpoint> {
    return new CudaIpcEndpoint(ctx.processName, ctx.options);
  },
};
