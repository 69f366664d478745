/**
 * What actors print reaches the driver's console line by line, prefixed `(ClassName pid=N) `
 * as Ray does; module top-level code that runs in actors is thereby attributed to them.
 */
import test from 'ava';
import * as path from 'node:path';
import { init, shutdown, spawn, get, kill, actorStats, ChildProcessLauncher, TOKENS, type Launcher, type LaunchSpec } from '../index';
import { ScriptStyle } from './fixtures/script-style';

/** Records what is written to a stream of this process (and still writes it). */
function capture(stream: NodeJS.WriteStream) {
  let text = '';
  const waiters: Array<{ re: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  const original = stream.write;
  stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
    text += Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
    for (const w of [...waiters]) {
      const m = text.match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
    return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof stream.write;
  return {
    text: () => text,
    /** Resolves once the text written so far matches (bounded by the test's timeout, not a timer). */
    waitFor: (re: RegExp) => new Promise<RegExpMatchArray>((resolve) => {
      const m = text.match(re);
      if (m) resolve(m);
      else waiters.push({ re, resolve });
    }),
    restore: () => {
      stream.write = original;
    },
  };
}

/**
 * Keeps this process alive while `p` is pending: actor processes and their output pipes do not
 * (the runtime holds the process only while its own work is pending), and ava fails a test whose
 * process runs out of work.
 */
async function alive<T>(p: Promise<T>): Promise<T> {
  const keep = setInterval(() => {}, 1 << 30);
  try {
    return await p;
  } finally {
    clearInterval(keep);
  }
}

test.serial('the launcher forwards stdout and stderr line by line with the prefix, the last partial line at exit', async (t) => {
  const out = capture(process.stdout);
  const err = capture(process.stderr);
  try {
    const proc = new ChildProcessLauncher().launch({
      actorId: 'printer', name: 'printer', entry: path.join(__dirname, 'fixtures', 'printer-process.js'), env: process.env, outputLabel: 'Printer',
    });
    await alive(new Promise<void>((resolve) => proc.onExit(() => resolve())));
    const p = `(Printer pid=${proc.pid}) `;
    const mine = (s: string) => s.split(/(?<=\n)/).filter((l) => l.startsWith(p)).join('');
    t.is(mine(out.text()), `${p}first line\n${p}second line\n${p}héllo wörld ✓\n${p}no newline at the end\n`);
    t.is(mine(err.text()), `${p}to stderr\n`, 'stderr stays on stderr');
  } finally {
    out.restore();
    err.restore();
  }
});

test.serial("an actor's prints, and its module's top-level prints, carry its class name and pid", async (t) => {
  const out = capture(process.stdout);
  const err = capture(process.stderr);
  await init();
  try {
    const a = await spawn(ScriptStyle);
    const { pid } = await actorStats(a);
    await alive(out.waitFor(new RegExp(`\\(ScriptStyle pid=${pid}\\) script-style\\.ts loaded \\(in an actor: true\\)\\n`)));
    t.false(await get(a.ranDriverCode.remote()), 'driver-only code guarded by isActorProcess() did not run in the actor');
    a.say.remote('hello from the actor');
    a.say.remote('oops', 'stderr');
    await alive(out.waitFor(new RegExp(`\\(ScriptStyle pid=${pid}\\) hello from the actor\\n`)));
    await alive(err.waitFor(new RegExp(`\\(ScriptStyle pid=${pid}\\) oops\\n`)));
    t.pass();
    await kill(a);
  } finally {
    out.restore();
    err.restore();
    await shutdown();
  }
});

test.serial('prefixing is on by default, off with init({ prefixActorOutput: false }) or TENSORWIRE_PREFIX_ACTOR_OUTPUT=0', async (t) => {
  const labels: Array<string | undefined> = [];
  class RecordingLauncher implements Launcher {
    private readonly inner = new ChildProcessLauncher();
    launch(spec: LaunchSpec) {
      labels.push(spec.outputLabel);
      return this.inner.launch(spec);
    }
  }
  const providers = [{ token: TOKENS.Launcher, useValue: new RecordingLauncher() }];
  for (const [options, env] of [[{}, undefined], [{ prefixActorOutput: false }, undefined], [{}, '0']] as const) {
    if (env === undefined) delete process.env.TENSORWIRE_PREFIX_ACTOR_OUTPUT;
    else process.env.TENSORWIRE_PREFIX_ACTOR_OUTPUT = env;
    await init({ ...options, providers });
    try {
      const a = await spawn(ScriptStyle);
      t.false(await get(a.ranDriverCode.remote()));
    } finally {
      await shutdown();
      delete process.env.TENSORWIRE_PREFIX_ACTOR_OUTPUT;
    }
  }
  t.deepEqual(labels, ['ScriptStyle', undefined, undefined]);
  await t.throwsAsync(init({ prefixActorOutput: 'yes' as never }), { message: /prefixActorOutput must be true or false/ });
});
