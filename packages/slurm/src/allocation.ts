/**
 * The Slurm allocation the driver runs in: its job id, its nodes and their addresses, and the
 * address of this host that those nodes reach (where the driver's control plane listens).
 */
import { execFileSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import { RuntimeStateError } from '@tensorwire/core/spi';

export interface SlurmNode {
  readonly name: string;
  readonly address: string;
}

/** The job id of the allocation this process runs in, or undefined outside one. */
export function currentJobId(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.SLURM_JOB_ID || env.SLURM_JOBID || undefined;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): string {
  try {
    return execFileSync(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string; code?: string };
    const why = e.code === 'ENOENT' ? `'${cmd}' is not installed (Debian: apt-get install slurm-client)` : (e.stderr?.trim() || e.message);
    throw new RuntimeStateError(`slurm launcher: ${cmd} ${args.join(' ')} failed: ${why}`);
  }
}

/** The nodes of job `jobId`, in Slurm's order, with their addresses (NodeAddr). */
export function allocationNodes(jobId: string, env: NodeJS.ProcessEnv = process.env): SlurmNode[] {
  const job = run('scontrol', ['-o', 'show', 'job', jobId], env);
  const list = / NodeList=(\S+)/.exec(job)?.[1];
  if (!list || list === '(null)') {
    throw new RuntimeStateError(`slurm launcher: job ${jobId} has no nodes (is it still pending? ${/JobState=(\S+)/.exec(job)?.[1] ?? 'unknown state'})`);
  }
  const names = run('scontrol', ['show', 'hostnames', list], env).split('\n').map((s) => s.trim()).filter(Boolean);
  const info = run('scontrol', ['-o', 'show', 'node', names.join(',')], env);
  const addr = new Map<string, string>();
  for (const line of info.split('\n')) {
    const n = /NodeName=(\S+)/.exec(line)?.[1];
    const a = /NodeAddr=(\S+)/.exec(line)?.[1];
    if (n && a) addr.set(n, a);
  }
  return names.map((name) => ({ name, address: addr.get(name) ?? name }));
}

/**
 * The address of this host's interface towards `peer` (what the kernel would use as source):
 * a connected UDP socket learns it without sending anything.
 */
export function localAddressTowards(peer: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(peer.includes(':') ? 'udp6' : 'udp4');
    s.on('error', (err) => {
      s.close();
      reject(new RuntimeStateError(`slurm launcher: no route from this host to node address ${peer}: ${err.message}`));
    });
    s.connect(6818, peer, () => {
      const a = s.address().address;
      s.close();
      resolve(a);
    });
  });
}
