/**
 * `tensorwire worker`: an actor process that joins a driver, for launchers that start actors
 * on other hosts (a Slurm job step, a Kubernetes pod). Every option falls back to the
 * environment variable the driver's launcher sets, so a launcher that passes the environment
 * (srun does) runs just `tensorwire worker`.
 */
import { JoinConfigError, joinDriver, joinParams, type JoinParams } from '../worker/join-driver';

export const WORKER_USAGE = `Options for worker (each defaults to the environment variable in brackets):
  --driver <host:port>  The driver's control plane [TENSORWIRE_DRIVER_ADDRESS].
  --actor <id>          The actor this process becomes [TENSORWIRE_ACTOR_ID].
  --token-file <path>   A file holding the runtime's token [TENSORWIRE_TOKEN_FILE, or the token
                        itself in TENSORWIRE_TOKEN]. Never on the command line: others can read it.
  --cert-sha256 <fp>    SHA-256 fingerprint of the driver's TLS certificate, checked before the
                        token is sent [TENSORWIRE_DRIVER_CERT_SHA256].
`;

/** A command-line mistake: exit status 2 with the message. */
export class WorkerUsageError extends Error {}

/** Parse `tensorwire worker` arguments; 'help' for -h/--help. */
type WorkerArgs = { -readonly [K in keyof JoinParams]?: JoinParams[K] } & { tokenFile?: string };

export function parseWorkerArgs(args: readonly string[]): WorkerArgs | 'help' {
  const out: WorkerArgs = {};
  const names: Record<string, 'address' | 'actorId' | 'tokenFile' | 'certSha256'> = {
    '--driver': 'address', '--actor': 'actorId', '--token-file': 'tokenFile', '--cert-sha256': 'certSha256',
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-h' || a === '--help') return 'help';
    const eq = a.indexOf('=');
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const key = names[flag];
    if (!key) {
      if (flag === '--token') throw new WorkerUsageError('--token is not accepted (command lines are visible to every user): use --token-file or TENSORWIRE_TOKEN');
      throw new WorkerUsageError(`unknown option for worker: '${a}'`);
    }
    const value = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (!value) throw new WorkerUsageError(`${flag} needs a value`);
    out[key] = value;
  }
  return out;
}

/** Join the driver; the process then lives until the driver lets it go (it exits itself). */
export function runWorker(args: readonly string[], env: NodeJS.ProcessEnv = process.env): 'help' | 'joined' {
  const parsed = parseWorkerArgs(args);
  if (parsed === 'help') return 'help';
  let params: JoinParams;
  try {
    params = joinParams(env, parsed);
  } catch (err) {
    if (err instanceof JoinConfigError) throw new WorkerUsageError(err.message);
    throw err;
  }
  // What the actor's own code and the modules it loads see (isActorProcess(), ...).
  process.env.TENSORWIRE_ACTOR_ID = params.actorId;
  process.env.TENSORWIRE_DRIVER_ADDRESS = params.address;
  delete process.env.TENSORWIRE_TOKEN; // the token stays in this process's memory only
  delete process.env.TENSORWIRE_TOKEN_FILE;
  joinDriver(params);
  return 'joined';
}
