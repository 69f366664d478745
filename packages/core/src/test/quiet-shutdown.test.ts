/**
 * Noise and waits: the spec's back-to-the-producer pattern logs at info (once per object), not
 * as a warning; shutdown() waits `graceMs` (5 s by default) for busy actors, then kills them.
 */
import test from 'ava';
import {
  init, shutdown, spawn, get, createCollectiveGroup, ChildProcessLauncher, TOKENS, InvalidArgumentError,
  type Launcher, type LaunchSpec, type LaunchedProcess, type Logger,
} from '../index';
import { Counter } from './fixtures/actors';
import { Producer } from './fixtures/gpu-actors';
import { isAlive } from './fixtures/processes';

class RecordingLogger implements Logger {
  readonly lines: Array<[string, string]> = [];
  debug(m: string): void { this.lines.push(['debug', m]); }
  info(m: string): void { this.lines.push(['info', m]); }
  warn(m: string): void { this.lines.push(['warn', m]); }
  error(m: string): void { this.lines.push(['error', m]); }
}

/** A launcher that records the signals sent to the processes it started. */
class SignalRecordingLauncher implements Launcher {
  readonly signals: string[] = [];
  private readonly inner = new ChildProcessLauncher();
  launch(spec: LaunchSpec): LaunchedProcess {
    const proc = this.inner.launch(spec);
    return {
      pid: proc.pid,
      kill: (signal = 'SIGKILL') => {
        this.signals.push(signal);
        proc.kill(signal);
      },
      onExit: (cb) => proc.onExit(cb),
    };
  }
}

const alive = isAlive;

test.serial('a GPU object passed back to its producer after a transfer is reported at info, once, not as a warning', async (t) => {
  const logger = new RecordingLogger();
  await init({ inlineGpuObjectBytes: 0, providers: [{ token: TOKENS.Logger, useValue: logger }] });
  try {
    const a = await spawn(Producer);
    const b = await spawn(Producer);
    await createCollectiveGroup([a, b], { backend: 'tcp-test' });
    const ref = a.make.remote(4, 1);
    t.is(await get(b.sum.remote(ref)), 4);
    t.is(await get(a.addOne.remote(ref)), 8, 'back to its producer: the same tensor, changed in place');
    t.is(await get(a.sum.remote(ref)), 8);
    const about = logger.lines.filter(([, m]) => m.includes('goes back to its producer'));
    t.deepEqual(about.map(([level]) => level), ['info']);
    t.deepEqual(logger.lines.filter(([level]) => level === 'warn' || level === 'error'), []);
  } finally {
    await shutdown();
  }
});

test.serial('shutdown({ graceMs }) kills an actor still busy after graceMs', async (t) => {
  const launcher = new SignalRecordingLauncher();
  const logger = new RecordingLogger();
  await init({ providers: [{ token: TOKENS.Launcher, useValue: launcher }, { token: TOKENS.Logger, useValue: logger }] });
  const a = await spawn(Counter, { name: 'busy' });
  const pid = await get(a.pid.remote());
  a.hang.remote(); // queued before the shutdown request: the actor never reads that request
  await shutdown({ graceMs: 100 });
  t.deepEqual(launcher.signals, ['SIGKILL']);
  t.false(alive(pid));
  t.true(logger.lines.some(([level, m]) => level === 'info' && /shutdown: killing busy, still running after graceMs 100 ms/.test(m)));
});

test.serial('an idle actor exits on its own within the grace; graceMs 0 kills at once', async (t) => {
  const launcher = new SignalRecordingLauncher();
  await init({ providers: [{ token: TOKENS.Launcher, useValue: launcher }] });
  await get((await spawn(Counter)).inc.remote());
  await shutdown({ graceMs: 60_000 });
  t.deepEqual(launcher.signals, [], 'asked to exit, it did: nothing was killed');
  await init({ providers: [{ token: TOKENS.Launcher, useValue: launcher }] });
  const b = await spawn(Counter);
  const pid = await get(b.pid.remote());
  await shutdown({ graceMs: 0 });
  t.deepEqual(launcher.signals, ['SIGKILL']);
  t.false(alive(pid));
});

test.serial('graceMs is validated before anything stops', async (t) => {
  await init();
  const a = await spawn(Counter);
  for (const bad of [-1, NaN, Infinity, '5' as unknown as number]) {
    await t.throwsAsync(shutdown({ graceMs: bad }), { instanceOf: InvalidArgumentError, message: /shutdown: graceMs must be a number of milliseconds from 0/ });
  }
  t.is(await get(a.inc.remote()), 1, 'the runtime still runs');
  await shutdown();
});
