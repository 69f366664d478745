/**
 * OS resources after a crash and a shutdown: an actor that held a GPU object of the transport
 * under test is SIGKILLed (it cleans nothing up), then the runtime is shut down. Afterwards:
 *   - none of the /dev/shm files that the killed actor (or its peers) had open or mapped exists
 *     any more, and no other new file in /dev/shm is left without a live holder;
 *   - the driver has no more open file descriptors than before init() (see FD_SLACK);
 *   - the driver has no child process left that it did not have before init(), zombies included,
 *     and the actors' processes are gone.
 * A transport whose shared-memory segments outlive a crashed process, or whose driver endpoint
 * keeps sockets or pipes after shutdown(), leaks them once per crash or per runtime.
 */
import { MiB } from '../options';
import { core } from './core-api';
import type { SystemKit, T } from './kit';
import { collectRefs, driverResources, isAlive, resourceGrowth, settleProblems, shmFiles, shmFilesOf, type DriverResources } from './resources';
import { deathNoticed, ensureRuntime, nameOf, pidOf, shutdownRuntime } from './runtime-env';
import { fingerprint, makeTensor } from './values';

/**
 * Descriptors the driver may hold after shutdown() beyond its count before init(). The baseline
 * is read after a whole warm-up cycle (init, actors, a transfer, shutdown), so what a process
 * opens once and keeps (libuv's signal pipe for child processes, a native library's global
 * state) is in it already, and the expected difference is 0. One descriptor of slack, because
 * Node and native libraries may still open one lazily for the lifetime of the process on a path
 * that only the crash takes (a log file, a cached device handle); two or more is a leak.
 */
const FD_SLACK = 1;
/** Longest wait for exits, closes and reaping after shutdown() (asynchronous; slow on a loaded machine). */
const SETTLE_MS = 15_000;

/** What one cycle leaves to check: the actors' pids and the /dev/shm files they held before the crash. */
interface Cycle {
  readonly pids: readonly number[];
  readonly victimShm: ReadonlySet<string>;
  readonly peerShm: ReadonlySet<string>;
}

export function registerShutdownLeakTests(k: SystemKit): void {
  const { name, d } = k;
  if (!core.actorStats) {
    k.r.skip(`${d}shutdown after a crash: all tests`, "core does not export actorStats(handle) (needed for actors' pids)");
    return;
  }

  /**
   * Start the runtime, make a GPU object in a producer and move it to a consumer; with `crash`,
   * SIGKILL the producer (the GPU object still alive) and wait until the driver noticed; then
   * shut the runtime down.
   */
  const cycle = async (t: T, crash: boolean): Promise<Cycle> => {
    await ensureRuntime({});
    const { p, c } = await k.setup(t);
    const recipe = k.recipe('float32', [MiB / 4]);
    const ref = k.produce(p, 'make', recipe);
    t.deepEqual(await k.call(c, 'fp', ref), fingerprint(makeTensor(recipe)), 'the transfer before the crash');
    const [pPid, cPid] = [await pidOf(p), await pidOf(c)];
    let victimShm = new Set<string>();
    let peerShm = new Set<string>();
    if (crash) {
      victimShm = shmFilesOf(pPid);
      peerShm = shmFilesOf(cPid);
      process.kill(pPid, 'SIGKILL');
      const noticed = await deathNoticed(p, SETTLE_MS);
      t.true(noticed, `the driver noticed that ${nameOf(p)} died`);
    }
    await shutdownRuntime();
    return { pids: [pPid, cPid], victimShm, peerShm };
  };

  /** The driver's resources once its refs are collected. */
  const reading = async (): Promise<DriverResources> => {
    await collectRefs(1);
    return driverResources();
  };

  /** Files of `held` that still exist in /dev/shm. */
  const remaining = (held: ReadonlySet<string>): string[] => {
    const now = shmFiles();
    return now ? [...held].filter((f) => now.has(f)) : [];
  };

  k.test(
    `shutdown after a crash: an actor holding a ${name} GPU object SIGKILLed, then shutdown(): none of its /dev/shm files remain, ` +
      `the driver's descriptors are back to their count before init(), no child process is left`,
    async (t) => {
      // Measured from a stopped runtime, after one full cycle (see FD_SLACK).
      await shutdownRuntime();
      await cycle(t, false);
      await collectRefs();
      const before = driverResources();
      const { pids, victimShm, peerShm } = await cycle(t, true);
      t.log(`/dev/shm files held before the crash: the killed producer ${victimShm.size}, the consumer ${peerShm.size}`);

      const t0 = Date.now();
      const problems = await settleProblems(reading, (now) => {
        const found = resourceGrowth(before, now, FD_SLACK);
        const victimLeft = remaining(victimShm);
        if (victimLeft.length > 0) found.push(`/dev/shm files of the SIGKILLed actor still there: ${victimLeft.join(', ')}`);
        const peerLeft = remaining(peerShm);
        if (peerLeft.length > 0) found.push(`/dev/shm files of the actor shut down with it still there: ${peerLeft.join(', ')}`);
        // Child processes new since the baseline (zombies included) are in resourceGrowth; an
        // actor that is no child of the driver any more (reparented) would be missed there.
        const running = pids.filter(isAlive);
        if (running.length > 0) found.push(`actor processes still running: ${running.join(', ')}`);
        return found;
      }, SETTLE_MS);
      if (problems.length === 0) {
        const fds = before.fds === undefined ? 'not measurable here' : `${before.fds} before init(), ${driverResources().fds} now`;
        t.log(`after shutdown(): nothing left (settled in ${Date.now() - t0} ms); driver descriptors ${fds}`);
      }
      t.deepEqual(problems, [], problems.join('; '));
    },
  );
}
