/** Options of the NCCL transport (`init({ transportOptions: { nccl: {...} } })`). */
import * as net from 'node:net';
import { NcclError } from './errors';

/** What `transportOptions.nccl` may hold. */
export interface NcclTransportOptions {
  /**
   * IPv4 address rank 0's control channel listens on (the other ranks connect to it; NCCL
   * itself picks its own interfaces, see NCCL_SOCKET_IFNAME). Default: env `TENSORWIRE_NCCL_HOST`,
   * else `TENSORWIRE_NETWORK_HOST` (core sets it when actors run on several hosts) when it is an
   * IPv4 address, else '127.0.0.1' (one machine).
   */
  readonly host?: string;
  /**
   * The CUDA device (index in this process, i.e. after CUDA_VISIBLE_DEVICES) a group's
   * communicator uses; tensors must live there. Default: env `TENSORWIRE_NCCL_DEVICE`, else 0
   * (an actor spawned with `numGpus` sees its GPU as cuda:0).
   */
  readonly device?: number;
  /**
   * Let ranks share a GPU (two actors with `numGpus: 0.5`): 'auto' (default) sets what the NCCL
   * found needs (NCCL_MULTI_RANK_GPU_ENABLE=1 from 2.30; a distinct NCCL_HOSTID per process
   * before, only when a rank of the group shares this process's GPU); 'off' sets nothing.
   */
  readonly sharedGpu?: 'auto' | 'off';
}

export const DEFAULT_HOST = '127.0.0.1';

export interface ResolvedOptions {
  readonly host: string;
  readonly device: number;
  readonly sharedGpu: 'auto' | 'off';
}

function invalid(message: string): NcclError {
  return new NcclError('NCCL_INVALID_ARGUMENT', message);
}

/** Options, then the environment (TENSORWIRE_NCCL_HOST or TENSORWIRE_NETWORK_HOST, TENSORWIRE_NCCL_DEVICE), then the defaults. */
export function resolveOptions(options: Readonly<Record<string, unknown>> | undefined): ResolvedOptions {
  const o = options ?? {};
  let host = DEFAULT_HOST;
  if (o.host !== undefined) {
    if (typeof o.host !== 'string' || !o.host.trim()) throw invalid(`nccl transport option 'host' must be an IPv4 address, got ${JSON.stringify(o.host)}`);
    host = o.host.trim();
  } else if (process.env.TENSORWIRE_NCCL_HOST?.trim()) {
    host = process.env.TENSORWIRE_NCCL_HOST.trim();
  } else if (net.isIPv4(process.env.TENSORWIRE_NETWORK_HOST?.trim() ?? '')) {
    host = process.env.TENSORWIRE_NETWORK_HOST!.trim();
  }
  let device = 0;
  const rawDevice = o.device ?? (process.env.TENSORWIRE_NCCL_DEVICE?.trim() ? Number(process.env.TENSORWIRE_NCCL_DEVICE) : undefined);
  if (rawDevice !== undefined) {
    if (typeof rawDevice !== 'number' || !Number.isInteger(rawDevice) || rawDevice < 0) {
      throw invalid(`nccl transport option 'device' must be a CUDA device index (0, 1, ...), got ${JSON.stringify(rawDevice)}`);
    }
    device = rawDevice;
  }
  const sharedGpu = o.sharedGpu ?? 'auto';
  if (sharedGpu !== 'auto' && sharedGpu !== 'off') throw invalid(`nccl transport option 'sharedGpu' must be 'auto' or 'off', got ${JSON.stringify(sharedGpu)}`);
  return { host, device, sharedGpu };
}
