/**
 * The launcher seam's types (what `init({ launcher })` and the `Launcher` DI token take): kept
 * in runtime/ so that the options can name them; the default launcher is driver/launcher.ts.
 */
export interface LaunchSpec {
  readonly actorId: string;
  readonly name: string;
  /** Absolute path of the actor process entry (core's worker-main.js). */
  readonly entry: string;
  /** Environment for the process (already merged with the driver's). */
  readonly env: NodeJS.ProcessEnv;
  /** Extra Node flags for the process, e.g. ['--cpu-prof'] or ['--max-old-space-size=8192']. */
  readonly execArgv?: readonly string[];
  /**
   * When set, each line the process prints (stdout and stderr) is forwarded through the
   * driver's own stdout/stderr prefixed `(<outputLabel> pid=<pid>) `, as Ray does; the runtime
   * passes the actor's class name. Undefined: the process writes to the driver's terminal as is.
   */
  readonly outputLabel?: string;
  /**
   * Where the actor should run, for launchers that place actors (`placesActors`): spawn's
   * `numGpus` and `node`. Undefined for other launchers (the driver reserved local GPUs itself).
   */
  readonly placement?: Placement;
}

/** What spawn asked of a launcher that places actors. */
export interface Placement {
  /** GPUs for the actor (spawn's numGpus; 0 or undefined: none). */
  readonly numGpus?: number;
  /** The host (cluster node name) to run on; undefined: the launcher chooses. */
  readonly node?: string;
}

export interface LaunchedProcess {
  readonly pid: number | undefined;
  kill(signal?: NodeJS.Signals): void;
  /**
   * Called once when the process ends. `detail` says why when the launcher knows more than the
   * exit status (a cluster engine's reason: the step was cancelled, could not start, ...); it
   * ends up in the actor's ActorDiedError.
   */
  onExit(cb: (code: number | null, signal: string | null, detail?: string) => void): void;
}

export interface Launcher {
  launch(spec: LaunchSpec): LaunchedProcess;
  /**
   * Remote launchers only: an address of this host that the actors' hosts reach (the address
   * of the interface on their network, never a wildcard). The driver's control plane listens
   * there, with TLS, unless `init({ host })` names another. Asked once, at `init`.
   */
  controlHost?(): string | Promise<string>;
  /**
   * True when the launcher places actors itself (a cluster engine): spawn's `numGpus` and
   * `node` go to it in `spec.placement`, and the driver does not reserve this machine's GPUs.
   */
  readonly placesActors?: boolean;
}
