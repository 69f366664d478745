import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  init, shutdown, spawn, get, objectStoreStats, MemoryObjectStore, TOKENS, RuntimeStateError, type EncodedValue,
} from '../index';
import { Counter } from './fixtures/actors';
import { isAlive } from './fixtures/processes';

const alive = isAlive;

test.serial('shutdown with calls in flight fails them, stops every actor and allows a new init', async (t) => {
  await init();
  const a = await spawn(Counter);
  const b = await spawn(Counter);
  const pids = await get([a.pid.remote(), b.pid.remote()]);
  const pending = a.slowEcho.remote('never', 10_000);
  const got = get(pending);
  await shutdown();
  await t.throwsAsync(got, { instanceOf: RuntimeStateError, message: /shut down/ });
  for (const pid of pids) t.false(alive(pid), `actor process ${pid} is gone`);
  t.throws(() => a.inc.remote(), { instanceOf: RuntimeStateError });
  await init();
  const c = await spawn(Counter);
  t.is(await get(c.inc.remote()), 1);
  await shutdown();
});

test.serial('init twice is a clear error', async (t) => {
  await init();
  await t.throwsAsync(init(), { instanceOf: RuntimeStateError, message: /already initialized/ });
  await shutdown();
});

test.serial('providers override the object store through DI', async (t) => {
  const puts: string[] = [];
  class RecordingStore extends MemoryObjectStore {
    override put(id: string, v: EncodedValue): void {
      puts.push(id);
      super.put(id, v);
    }
  }
  await init({ providers: [{ token: TOKENS.ObjectStore, useClass: RecordingStore }] });
  const a = await spawn(Counter);
  await get(a.inc.remote());
  t.true(puts.length >= 1);
  await shutdown();
});

test.serial('refs that are garbage-collected free their objects', async (t) => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    t.pass('run with --expose-gc to check collection');
    return;
  }
  await init();
  const a = await spawn(Counter);
  const before = objectStoreStats().objects;
  await (async () => {
    const refs = [1, 2, 3].map(() => a.bytes.remote(1 << 16));
    await get(refs);
  })();
  t.is(objectStoreStats().objects, before + 3);
  for (let i = 0; i < 20 && objectStoreStats().objects > before; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  t.is(objectStoreStats().objects, before);
  await shutdown();
});

test.serial('actor classes from ES modules work', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-esm-'));
  const core = pathToFileURL(path.join(__dirname, '..', 'index.js')).href;
  const file = path.join(dir, 'esm-actor.mjs');
  fs.writeFileSync(
    file,
    `import core from ${JSON.stringify(core)};\n` +
      `export class EsmActor { hello(n) { return 'hello ' + n; } }\n` +
      `core.actor()(EsmActor);\n`,
  );
  await init();
  const mod = await (new Function('u', 'return import(u)') as (u: string) => Promise<{ EsmActor: new () => unknown }>)(pathToFileURL(file).href);
  const a = await spawn(mod.EsmActor as new () => { hello(n: number): string });
  t.is(await get(a.hello.remote(3)), 'hello 3');
  await shutdown();
});

test.serial('the control plane can listen on TCP (for actors on other hosts)', async (t) => {
  await init({ host: '127.0.0.1' });
  const a = await spawn(Counter);
  t.is(await get(a.inc.remote(2)), 2);
  await shutdown();
});
