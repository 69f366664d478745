/**
 * The bounded soak of the system-level suite: `options.soakTransfers` transfers through the
 * runtime with the transport under test, then everything must be released (see soak.ts).
 */
import type { Registrar } from '../registrar';
import { core } from './core-api';
import type { SystemKit, T } from './kit';
import { canMeasure } from './resources';
import { ActorSet, ensureRuntime } from './runtime-env';
import { OBJECT_STORE, runSoak, soakTable, type SoakResult } from './soak';

/** Log a soak's figures and assert that it found nothing. */
export function checkSoak(t: T, what: string, r: SoakResult): void {
  t.log(`${what}: ${r.transfers} transfers in ${r.loopMs} ms (${Math.round((r.transfers * 1000) / Math.max(1, r.loopMs))}/s)`);
  t.log(`\n${soakTable(r)}`);
  if (!canMeasure()) t.log('no /proc here: file descriptors and child processes were not checked');
  t.is(r.wrong, 0, `wrong results: ${r.problems.filter((p) => p.startsWith('transfer ')).join('; ')}`);
  t.deepEqual(r.problems, [], `after the soak: ${r.problems.join('; ')}`);
}

export function registerSoakTests(k: SystemKit): void {
  const n = k.options.soakTransfers;
  const title = `soak: ${n} transfers producer -> consumer (1 KiB and 1 MiB, 8 in flight, some also read by the driver, refs freed or collected), then nothing is held and no fd or process leaked`;
  if (n <= 0) {
    k.r.skip(`${k.d}soak`, 'options.soakTransfers is 0');
    return;
  }
  if (!core.actorStats) {
    k.r.skip(`${k.d}soak`, 'core does not export actorStats(handle)');
    return;
  }
  k.test(title, async (t) => {
    const { p, c } = await k.setup(t);
    checkSoak(t, `${k.name}`, await runSoak(p, c, { transfers: n, transport: k.name, device: k.device }));
  });
}

/**
 * The same soak over the object-store path (results without a tensor transport: the value is
 * stored in the driver and sent from there to the consumer). Transport-independent, so it is
 * registered by its own test file rather than once per transport.
 */
export function registerObjectStoreSoak(r: Registrar, transfers: number): void {
  if (!core.actorStats) {
    r.skip('system: object-store soak', 'core does not export actorStats(handle)');
    return;
  }
  r.test(`system: soak: ${transfers} transfers producer -> consumer through the object store, then nothing is held and no fd or process leaked`, async (t) => {
    await ensureRuntime({});
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ConformanceActor } = require('./actors') as typeof import('./actors');
    const set = new ActorSet(t, 'conf-object-store');
    const [p, c] = await Promise.all([set.spawn(ConformanceActor, 'producer'), set.spawn(ConformanceActor, 'consumer')]);
    checkSoak(t, OBJECT_STORE, await runSoak(p, c, { transfers, transport: OBJECT_STORE }));
  }, 300_000);
}
