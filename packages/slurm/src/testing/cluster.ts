/**
 * `@tensorwire/slurm/testing`: a real Slurm cluster of network namespaces on this machine
 * (testing/slurm-cluster.sh), for multi-host tests and benchmarks. Root only; where it cannot
 * run, {@link clusterUnavailable} says why so callers can skip with the reason.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';

/** The script that starts and stops the cluster. */
export const CLUSTER_SCRIPT = path.join(__dirname, '..', '..', 'testing', 'slurm-cluster.sh');

/** Why no cluster can be started here, or undefined when one can. */
export function clusterUnavailable(): string | undefined {
  if (process.env.TENSORWIRE_SKIP_SLURM === '1') return 'TENSORWIRE_SKIP_SLURM=1';
  const r = spawnSync('bash', [CLUSTER_SCRIPT, 'check'], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  return (r.stdout || r.stderr || `slurm-cluster.sh check exited ${r.status}`).trim();
}

/** How a command ended and what it printed. */
export interface CommandResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A started cluster. */
export interface TestCluster {
  /** Environment for Slurm commands and drivers (SLURM_CONF, no SLURM_JOB_ID). */
  readonly env: NodeJS.ProcessEnv;
  readonly nodes: readonly string[];
  /** The nodes' addresses, in the order of `nodes`. */
  readonly addresses: readonly string[];
  /** This machine's address on the cluster's bridge (where a driver listens). */
  readonly hostAddress: string;
  /** salloc an allocation of `nodes` whole nodes; returns its job id. */
  allocate(nodes?: number): string;
  /** scancel a job. */
  release(jobId: string): void;
  /** Kill every process of a node (its network namespace), as if the host died. */
  killNode(node: string): void;
  /**
   * Run a command inside a node's network namespace (asynchronously: a driver in this process
   * must go on answering while it runs).
   */
  inNode(node: string, cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CommandResult>;
  /** Stop the cluster and remove its network. */
  down(): void;
}

/** Start a cluster of `nodes` nodes (installs Slurm and munge with apt-get when missing). */
export function startCluster(nodes = 2): TestCluster {
  // A cluster a killed test run left behind is removed first.
  spawnSync('bash', [CLUSTER_SCRIPT, 'down'], { stdio: 'ignore' });
  const out = execFileSync('bash', [CLUSTER_SCRIPT, 'up', String(nodes)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const vars: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^(\w+)='?(.*?)'?$/.exec(line.trim());
    if (m) vars[m[1]!] = m[2]!;
  }
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: vars.SLURM_CONF };
  delete env.SLURM_JOB_ID;
  delete env.SLURM_JOBID;
  const names = vars.TW_SLURM_NODES!.split(' ');
  return {
    env,
    nodes: names,
    addresses: vars.TW_SLURM_NODE_ADDRS!.split(' '),
    hostAddress: vars.TW_SLURM_HOST_ADDR!,
    allocate(n = names.length) {
      const r = spawnSync('salloc', [`--nodes=${n}`, '--exclusive', '--no-shell', '--job-name=tensorwire-test'], { env, encoding: 'utf8', timeout: 60_000 });
      const id = /Granted job allocation (\d+)/.exec(`${r.stderr}${r.stdout}`)?.[1];
      if (!id) throw new Error(`salloc failed: ${r.stderr}`);
      return id;
    },
    release(jobId) {
      spawnSync('scancel', [jobId], { env, stdio: 'ignore' });
    },
    killNode(node) {
      const pids = execFileSync('ip', ['netns', 'pids', node], { encoding: 'utf8' }).split('\n').filter(Boolean);
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone already */
        }
      }
    },
    inNode(node, cmd, args, extraEnv = {}) {
      return new Promise<CommandResult>((resolve) => {
        const p = spawn('nsenter', [`--net=/run/netns/${node}`, cmd, ...args], { env: { ...env, ...extraEnv }, timeout: 60_000 });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (b: Buffer) => (stdout += b));
        p.stderr.on('data', (b: Buffer) => (stderr += b));
        p.on('error', (err) => resolve({ status: null, stdout, stderr: `${stderr}${err.message}` }));
        p.on('close', (status) => resolve({ status, stdout, stderr }));
      });
    },
    down() {
      spawnSync('bash', [CLUSTER_SCRIPT, 'down'], { stdio: 'inherit' });
    },
  };
}
