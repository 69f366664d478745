#!/usr/bin/env node
/**
 * The `tensorwire` command (package.json "bin"): `npx tensorwire doctor [--json]`, and
 * `tensorwire worker` (an actor process joining a driver on another host).
 * Usage errors exit with status 2; doctor itself always exits 0 (an unavailable or absent
 * transport is an answer, not a failure).
 */
import { formatDoctorReport, runDoctor } from './doctor';
import { WORKER_USAGE, WorkerUsageError, runWorker } from './worker-command';

const DEFAULT_TIMEOUT_MS = 20_000;

const USAGE = `Usage: tensorwire <command> [options]

Commands:
  doctor              List the installed tensor transports and device backends, whether each
                      can run on this machine (native library found, device present) and how
                      to fix it (for CUDA: the driver version, the devices and their memory),
                      plus the machine facts that matter (Node, OS, CPUs, memory, NVIDIA GPU,
                      libcuda/libnccl, UCX environment).
  worker              Run an actor process that joins a driver (what a launcher runs on
                      another host, e.g. a Slurm job step): see the options below.
  help                Show this help.

Options for doctor:
  --json              Print the report as JSON.
  --timeout <ms>      Limit for loading and probing each transport package (default ${DEFAULT_TIMEOUT_MS}).

${WORKER_USAGE}
Options:
  -h, --help          Show this help.
  -v, --version       Print the version of @tensorwire/core.
`;

class UsageError extends Error {}

interface DoctorArgs {
  json: boolean;
  timeoutMs: number;
}

function parseDoctorArgs(args: readonly string[]): DoctorArgs | 'help' {
  const out: DoctorArgs = { json: false, timeoutMs: DEFAULT_TIMEOUT_MS };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') out.json = true;
    else if (a === '-h' || a === '--help') return 'help';
    else if (a === '--timeout' || a.startsWith('--timeout=')) {
      const value = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      const ms = Number(value);
      if (!value || !Number.isInteger(ms) || ms <= 0) throw new UsageError(`--timeout needs a positive whole number of milliseconds, got '${value ?? ''}'`);
      out.timeoutMs = ms;
    } else throw new UsageError(`unknown option for doctor: '${a}'`);
  }
  return out;
}

function version(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('../../package.json') as { version: string }).version;
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '-h' || command === '--help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === '-v' || command === '--version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (command === 'worker') {
    if (runWorker(rest) === 'help') process.stdout.write(USAGE);
    return 0; // a joined worker exits itself when the driver lets it go
  }
  if (command !== 'doctor') throw new UsageError(`unknown command '${command}'`);
  const args = parseDoctorArgs(rest);
  if (args === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const report = await runDoctor({ cwd: process.cwd(), timeoutMs: args.timeoutMs });
  process.stdout.write(args.json ? JSON.stringify(report, null, 2) + '\n' : formatDoctorReport(report));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof WorkerUsageError) {
      process.stderr.write(`tensorwire: ${err.message}\nRun 'tensorwire --help' for usage.\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`tensorwire: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
