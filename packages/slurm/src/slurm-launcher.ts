/**
 * The Slurm launcher: each actor is a job step of the allocation the driver runs in
 * (`srun --jobid=J -N1 -n1 --exact`), running `tensorwire worker`, which joins the driver over
 * TLS. Slurm places the step (spawn's `node`, or its own choice), binds its GPUs (`--gpus`)
 * and cleans it up; a step that Slurm cannot start, cancels or kills ends the actor with an
 * ActorDiedError carrying Slurm's own words.
 */
import { spawn as spawnProcess, execFile } from 'node:child_process';
import * as path from 'node:path';
import { RuntimeStateError, type LaunchSpec, type LaunchedProcess, type Launcher } from '@tensorwire/core/spi';
import { allocationNodes, currentJobId, localAddressTowards, type SlurmNode } from './allocation';
import { LineSplitter, classifyLine, deathReason } from './slurm-output';
import { stepArgs } from './srun-args';

/** Options of {@link SlurmLauncher}. */
export interface SlurmLauncherOptions {
  /** The allocation's job id. Default: SLURM_JOB_ID (set inside sbatch and salloc). */
  readonly jobId?: string;
  /** The srun command. Default: 'srun' on PATH. */
  readonly srun?: string;
  /** More srun options for every step, e.g. ['--mem=8G', '--cpus-per-task=4']. */
  readonly srunArgs?: readonly string[];
  /**
   * Where actors whose spawn names no `node` go: 'slurm' (Slurm chooses, filling nodes in
   * order) or 'spread' (round-robin over the allocation's nodes). Default: env
   * TENSORWIRE_SLURM_DISTRIBUTION, else 'slurm'.
   */
  readonly distribution?: 'slurm' | 'spread';
  /** Environment for the Slurm commands the launcher runs itself (default process.env); steps get the actor's. */
  readonly env?: NodeJS.ProcessEnv;
}

/** How long a step asked to die (scancel) may take before its srun is killed too. */
const KILL_GRACE_MS = 5000;

/** `tensorwire worker`: core's CLI, from the same installation as this package's core. */
function workerCommand(): string[] {
  const coreDir = path.dirname(require.resolve('@tensorwire/core/package.json'));
  return [path.join(coreDir, 'dist', 'cli', 'main.js'), 'worker'];
}

/**
 * Runs each actor as a Slurm job step of the driver's allocation.
 *
 * @example
 * ```ts
 * import { init, spawn } from '@tensorwire/core';
 * import '@tensorwire/slurm';           // inside sbatch/salloc this alone selects it
 * await init({ launcher: 'slurm' });    // or explicitly
 * const a = await spawn(Trainer, { numGpus: 1, node: 'gpu-07' });
 * ```
 */
export class SlurmLauncher implements Launcher {
  readonly placesActors = true;
  readonly jobId: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly distribution: 'slurm' | 'spread';
  private nodeList: SlurmNode[] | undefined;
  private next = 0;

  /** @throws RuntimeStateError outside an allocation when no jobId is given. */
  constructor(private readonly options: SlurmLauncherOptions = {}) {
    this.env = options.env ?? process.env;
    const jobId = options.jobId ?? currentJobId(this.env);
    if (!jobId) {
      throw new RuntimeStateError(
        "slurm launcher: this process is not inside a Slurm allocation (SLURM_JOB_ID is unset). Run the driver in `sbatch` or `salloc`, or give the job: new SlurmLauncher({ jobId })",
      );
    }
    this.jobId = String(jobId);
    const d = options.distribution ?? this.env.TENSORWIRE_SLURM_DISTRIBUTION ?? 'slurm';
    if (d !== 'slurm' && d !== 'spread') {
      throw new RuntimeStateError(`slurm launcher: distribution must be 'slurm' or 'spread', got '${d}' (TENSORWIRE_SLURM_DISTRIBUTION?)`);
    }
    this.distribution = d;
  }

  /** The allocation's nodes and addresses (asked of Slurm once). */
  nodes(): SlurmNode[] {
    this.nodeList ??= allocationNodes(this.jobId, this.env);
    return this.nodeList;
  }

  /**
   * The address of this host that the allocation's nodes reach: the source address towards a
   * node other than this one (this one's when it is alone).
   */
  async controlHost(): Promise<string> {
    const nodes = this.nodes();
    const self = this.env.SLURMD_NODENAME;
    const peer = nodes.find((n) => n.name !== self) ?? nodes[0]!;
    return localAddressTowards(peer.address);
  }

  launch(spec: LaunchSpec): LaunchedProcess {
    const spread = this.distribution === 'spread' && spec.placement?.node === undefined;
    const node = spread ? this.nodes()[this.next++ % this.nodes().length]!.name : undefined;
    const args = stepArgs({
      jobId: this.jobId, name: spec.name, placement: spec.placement, node, srunArgs: this.options.srunArgs,
      command: [process.execPath, ...(spec.execArgv ?? []), ...workerCommand()],
    });
    // spec.env is the driver's environment already, less what the driver set for its own
    // transports (their addresses are this host's, not the step's).
    return new SrunStep(this.options.srun ?? 'srun', args, spec.env, spec, this.jobId);
  }
}

/** One srun process and the job step it runs. */
class SrunStep implements LaunchedProcess {
  readonly pid: number | undefined;
  private stepId: string | undefined;
  private node: string | undefined;
  private readonly reasons: string[] = [];
  private exited: { code: number | null; signal: string | null; detail?: string } | null = null;
  private readonly listeners: Array<(c: number | null, s: string | null, d?: string) => void> = [];
  private readonly srun;

  constructor(srunPath: string, args: string[], private readonly env: NodeJS.ProcessEnv, private readonly spec: LaunchSpec, private readonly jobId: string) {
    this.srun = spawnProcess(srunPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.pid = this.srun.pid;
    // The driver's liveness is governed by its pending work, not by its steps.
    this.srun.unref();
    for (const [stream, write] of [
      [this.srun.stdout!, (b: string) => process.stdout.write(b)],
      [this.srun.stderr!, (b: string) => process.stderr.write(b)],
    ] as const) {
      const lines = new LineSplitter((line) => this.onLine(line, write));
      stream.on('data', (c: Buffer) => lines.push(c));
      stream.on('end', () => lines.end());
      (stream as unknown as { unref?: () => void }).unref?.();
    }
    this.srun.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? `'${srunPath}' is not installed (Debian: apt-get install slurm-client)` : err.message;
      this.end(null, null, `Slurm: cannot run srun: ${why}`);
    });
    // 'close': after the output is drained, so the reasons are all in.
    this.srun.on('close', (code, signal) => this.end(code, signal, deathReason(this.reasons)));
  }

  private onLine(line: string, write: (b: string) => void): void {
    const c = classifyLine(line);
    if (c.kind === 'launched') {
      this.stepId = c.stepId;
      this.node = c.node;
    } else if (c.kind === 'reason') {
      this.reasons.push(c.text);
      write(`[tensorwire slurm] (${this.spec.name}) ${c.text}\n`);
    } else if (c.kind === 'actor') {
      write(this.spec.outputLabel !== undefined ? `(${this.spec.outputLabel} ${this.spec.name}@${this.node ?? '?'}) ${line}\n` : `${line}\n`);
    }
  }

  private end(code: number | null, signal: string | null, detail?: string): void {
    if (this.exited) return;
    this.exited = { code, signal, detail };
    this.listeners.forEach((l) => l(code, signal, detail));
  }

  /**
   * Ask Slurm to signal the step's task (`scancel --signal`), then, if srun is still there after
   * a grace, kill srun itself. Before the step exists, srun alone is stopped.
   */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exited) return;
    if (this.stepId === undefined) {
      this.srun.kill(signal);
      return;
    }
    execFile('scancel', [`--signal=${signal.replace(/^SIG/, '')}`, this.stepId], { env: this.env }, () => {});
    setTimeout(() => this.exited || this.srun.kill('SIGKILL'), KILL_GRACE_MS).unref();
  }

  onExit(cb: (code: number | null, signal: string | null, detail?: string) => void): void {
    if (this.exited) cb(this.exited.code, this.exited.signal, this.exited.detail);
    else this.listeners.push(cb);
  }

  /** The step's id (JOB.STEP) and node once srun said them. */
  get where(): { jobId: string; stepId?: string; node?: string } {
    return { jobId: this.jobId, stepId: this.stepId, node: this.node };
  }
}
