/**
 * Two ranks on one GPU (two actors spawned with `numGpus: 0.5`). NCCL refuses that ("Duplicate
 * GPU detected") unless told otherwise:
 * - NCCL 2.30 and later: NCCL_MULTI_RANK_GPU_ENABLE=1 lets ranks share a GPU;
 * - before: each rank sharing a GPU gets its own NCCL_HOSTID, so NCCL takes them for two hosts
 *   (it then moves their data over its network transport, not through GPU memory).
 * NCCL reads both once per process, at its first communicator: the endpoint sets the first at
 * its first group; the second is set at a group's creation when a rank of the group shares this
 * process's GPU (the ranks tell each other which GPU they use through the rendezvous store).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { NcclError } from './errors';
import { versionString } from './library';

/** NCCL 2.30.0's version code: the first with NCCL_MULTI_RANK_GPU_ENABLE. */
export const MULTI_RANK_GPU_VERSION = 23000;

/** This machine: its name and boot id (as NCCL tells hosts apart by default). */
export function hostIdentity(): string {
  let boot = '';
  try {
    boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // not Linux: the name alone
  }
  return `${os.hostname()}/${boot}`;
}

/** What a rank publishes: which GPU of which machine it uses. */
export function gpuIdentity(pciBusId: string): string {
  return `${hostIdentity()}/${pciBusId}`;
}

export interface SharedGpuPlan {
  /** Environment variables to set before the communicator is created. */
  readonly set: Readonly<Record<string, string>>;
  /** The ranks that share this rank's GPU. */
  readonly sharing: readonly number[];
}

/** Variables every group creation may set (NCCL_MULTI_RANK_GPU_ENABLE), before NCCL reads it. */
export function processWideSettings(versionCode: number, env: NodeJS.ProcessEnv): Record<string, string> {
  if (versionCode >= MULTI_RANK_GPU_VERSION && env.NCCL_MULTI_RANK_GPU_ENABLE === undefined) return { NCCL_MULTI_RANK_GPU_ENABLE: '1' };
  return {};
}

/**
 * What this rank must set, given every rank's GPU identity (index = rank). Throws NcclError
 * (NCCL_SHARED_GPU) when sharing needs an NCCL_HOSTID that can no longer take effect.
 */
export function planSharedGpu(args: {
  rank: number;
  identities: readonly string[];
  versionCode: number;
  /** Communicators this process created already (NCCL has read NCCL_HOSTID once one exists). */
  communicatorsCreated: number;
  env: NodeJS.ProcessEnv;
  group: string;
}): SharedGpuPlan {
  const mine = args.identities[args.rank];
  const sharing = args.identities.flatMap((id, r) => (r !== args.rank && id === mine ? [r] : []));
  if (sharing.length === 0 || args.versionCode >= MULTI_RANK_GPU_VERSION) return { set: {}, sharing };
  const ours = `${os.hostname()}-tensorwire-${process.pid}`;
  if (args.env.NCCL_HOSTID !== undefined) return { set: {}, sharing };  // the user's, or ours from an earlier group
  if (args.communicatorsCreated > 0) {
    throw new NcclError(
      'NCCL_SHARED_GPU',
      `nccl group '${args.group}' rank ${args.rank}: this rank shares its GPU with rank(s) ${sharing.join(', ')}, which NCCL ${versionString(args.versionCode)} ` +
        'allows only when each rank has its own NCCL_HOSTID, and this process already created a communicator (NCCL reads NCCL_HOSTID once). ' +
        'Fix: give each actor its own GPU, update NCCL to 2.30 or later (then NCCL_MULTI_RANK_GPU_ENABLE=1 is used), or set NCCL_HOSTID per actor process before its first group',
    );
  }
  return { set: { NCCL_HOSTID: ours }, sharing };
}
