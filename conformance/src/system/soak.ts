/**
 * A soak of GPU-object transfers between two actors: thousands of producer -> consumer transfers
 * (small and large tensors, a few in flight at once), some also read by the driver, most refs
 * freed with free() and the rest left to garbage collection. Afterwards everything must be back
 * where it started: no GPU object, tensor, received copy or send held by either actor, the
 * driver's object table and store at their baseline, and no file descriptors or child processes
 * gained (beyond a small slack). Used by the conformance suite (a bounded count per transport)
 * and by `npm run soak` (a long run that prints memory and descriptors as it goes).
 */
import { core, type ActorStats } from './core-api';
import { childPids, collectRefs, fdCount, fdKinds, fdKindsDiff, rssBytes } from './resources';

/** What an actor holds, from actorStats (its GPU-object counters; device memory is not sampled here). */
type HeldCounts = Omit<ActorStats, 'pid' | 'groups' | 'deviceMemory' | 'cudaVisibleDevices'>;

/** The object-store path: results without a tensor transport, stored in (and sent from) the driver. */
export const OBJECT_STORE = 'object-store';

export interface SoakOptions {
  /** How many producer -> consumer transfers. */
  readonly transfers: number;
  /** The transport of the producer's results, or 'object-store'. */
  readonly transport: string;
  /** The device of the tensors ('cuda:0'), default the CPU. */
  readonly device?: string;
  /** Transfers in flight at once (default 8). */
  readonly window?: number;
  /** Take a sample every this many transfers (default: transfers / 10). */
  readonly sampleEvery?: number;
  /** Called with each sample (before, during, at the end, settled). */
  readonly onSample?: (s: SoakSample) => void;
  /** Longest wait for the counts to come back after the loop (frees are asynchronous); default 20 s. */
  readonly settleMs?: number;
  /** File descriptors a process may gain over the run (default 4). */
  readonly fdSlack?: number;
  /** Transfers before the baseline is taken (endpoints, connections, pools warm up); default 32. */
  readonly warmup?: number;
}

export interface ProcessSample {
  readonly pid: number;
  readonly rss?: number;
  readonly fds?: number;
}

export interface SoakSample {
  /** 'before' (after the warm-up), 'during', 'end' (last transfer done), 'after' (settled). */
  readonly phase: 'before' | 'during' | 'end' | 'after';
  /** Transfers done. */
  readonly done: number;
  /** Milliseconds since the soak started. */
  readonly ms: number;
  readonly driver: ProcessSample & { readonly children?: number };
  readonly producer: ProcessSample & HeldCounts;
  readonly consumer: ProcessSample & HeldCounts;
  /** The driver's object store and object table (objectStoreStats()), when core has it. */
  readonly store?: { readonly objects: number; readonly bytes: number; readonly entries?: number };
}

export interface SoakResult {
  readonly transfers: number;
  /** Wall time of the transfer loop (reported, never asserted). */
  readonly loopMs: number;
  /** Results that were wrong (bad sum), with the first few described in `problems`. */
  readonly wrong: number;
  readonly before: SoakSample;
  readonly end: SoakSample;
  readonly after: SoakSample;
  /** Per field, the largest value seen in any sample. */
  readonly peak: SoakSample;
  /** What did not come back (empty when the soak passed). */
  readonly problems: string[];
}

const SMALL = 256; // int32 elements: 1 KiB
const LARGE = 256 * 1024; // 1 MiB
const sumInts = (n: number) => (n * (n - 1)) / 2;

/** What transfer `i` does: tensor size, whether the driver also gets it, how its refs are released. */
function plan(index: number): { n: number; driverGet?: 'transport' | 'object-store'; release: 'free' | 'gc' } {
  // The warm-up runs -warmup..-1: the same kinds of transfer, and at its end large ones read by
  // the driver, so that whatever opens lazily (the driver's endpoint) is open before the baseline.
  if (index === -1) return { n: LARGE, driverGet: 'transport', release: 'free' };
  if (index === -2) return { n: LARGE, driverGet: 'object-store', release: 'gc' };
  const i = Math.abs(index);
  return {
    n: i % 97 === 13 ? LARGE : SMALL + (i % 7),
    driverGet: i % 20 === 5 ? 'transport' : i % 20 === 15 ? 'object-store' : undefined,
    release: i % 4 === 3 ? 'gc' : 'free',
  };
}

async function sampleProcess(h: unknown): Promise<ProcessSample & HeldCounts> {
  const s = await core.actorStats!(h);
  return {
    pid: s.pid, rss: rssBytes(s.pid), fds: fdCount(s.pid),
    gpuObjects: s.gpuObjects, tensors: s.tensors, receivedCopies: s.receivedCopies, pendingTransfers: s.pendingTransfers,
  };
}

async function sample(phase: SoakSample['phase'], done: number, t0: number, p: unknown, c: unknown): Promise<SoakSample> {
  const [producer, consumer] = await Promise.all([sampleProcess(p), sampleProcess(c)]);
  const st = core.objectStoreStats?.() as { objects: number; bytes: number; entries?: number } | undefined;
  return {
    phase, done, ms: Date.now() - t0,
    driver: { pid: process.pid, rss: rssBytes(), fds: fdCount(), children: childPids()?.length },
    producer, consumer,
    store: st && { objects: st.objects, bytes: st.bytes, entries: st.entries },
  };
}

/** Field-wise maximum of two samples (numbers only; the rest from `b`). */
function maxOf<T>(a: T, b: T): T {
  if (typeof a === 'number' && typeof b === 'number') return Math.max(a, b) as T;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const out: Record<string, unknown> = { ...(b as Record<string, unknown>) };
    for (const k of Object.keys(b as object)) out[k] = maxOf((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]);
    return out as T;
  }
  return b ?? a;
}

const held = (s: HeldCounts) => s.gpuObjects + s.tensors + s.receivedCopies + s.pendingTransfers;
const countsOf = (s: HeldCounts) =>
  `gpuObjects ${s.gpuObjects}, tensors ${s.tensors}, receivedCopies ${s.receivedCopies}, pendingTransfers ${s.pendingTransfers}`;

/** What `now` holds beyond `base` (the checks after the loop); empty when everything came back. */
function leftovers(base: SoakSample, now: SoakSample, fdSlack: number, baseChildren: number[] | undefined): string[] {
  const out: string[] = [];
  if (held(now.producer) > 0) out.push(`the producer still holds ${countsOf(now.producer)}`);
  if (held(now.consumer) > 0) out.push(`the consumer still holds ${countsOf(now.consumer)}`);
  if (base.store && now.store) {
    if (now.store.entries !== undefined && base.store.entries !== undefined && now.store.entries > base.store.entries) {
      out.push(`the driver's object table has ${now.store.entries} entries, ${base.store.entries} before the soak`);
    }
    if (now.store.objects > base.store.objects || now.store.bytes > base.store.bytes) {
      out.push(`the driver's object store holds ${now.store.objects} objects / ${now.store.bytes} bytes, ${base.store.objects} / ${base.store.bytes} before`);
    }
  }
  const fds = (what: string, b?: number, n?: number) => {
    if (b !== undefined && n !== undefined && n > b + fdSlack) out.push(`${what} has ${n} open file descriptors, ${b} before (slack ${fdSlack})`);
  };
  fds('the driver', base.driver.fds, now.driver.fds);
  fds('the producer', base.producer.fds, now.producer.fds);
  fds('the consumer', base.consumer.fds, now.consumer.fds);
  if (baseChildren) {
    const had = new Set(baseChildren);
    const extra = (childPids() ?? []).filter((pid) => !had.has(pid));
    if (extra.length) out.push(`the driver has ${extra.length} more child process(es): ${extra.join(', ')}`);
  }
  return out;
}

/**
 * Run the soak between producer `p` and consumer `c` (already in a group when the transport
 * needs one). Never throws for what it finds: the result's `problems` and `wrong` say.
 */
export async function runSoak(p: any, c: any, o: SoakOptions): Promise<SoakResult> {
  if (!core.actorStats) throw new Error('core does not export actorStats(handle): the soak cannot check the actors');
  const window = Math.max(1, o.window ?? 8);
  const every = Math.max(1, o.sampleEvery ?? Math.ceil(o.transfers / 10));
  const settleMs = o.settleMs ?? 20_000;
  const fdSlack = o.fdSlack ?? 4;
  const warmup = o.warmup ?? 32;
  const options = o.transport === OBJECT_STORE ? undefined : { tensorTransport: o.transport };
  const problems: string[] = [];
  let wrong = 0;
  const t0 = Date.now();

  /** One transfer: make, send to the consumer (and maybe get in the driver), release. */
  const one = async (i: number): Promise<void> => {
    const { n, driverGet, release } = plan(i);
    const ref = options ? p.makeInts.options(options).remote(n, o.device) : p.makeInts.remote(n, o.device);
    const res = c.sum.remote(ref);
    const want = sumInts(n);
    const got = await core.get(res);
    let direct: number | undefined;
    if (driverGet) {
      const copy = await core.get(ref, driverGet === 'object-store' ? { tensorTransport: OBJECT_STORE } : {});
      direct = copy.sum();
    }
    if (got !== want || (direct !== undefined && direct !== want)) {
      if (wrong++ < 5) problems.push(`transfer ${i} (${n} int32): consumer sum ${got}, driver sum ${direct ?? '-'}, expected ${want}`);
    }
    if (release === 'free') await core.free([ref, res]);
    // else: both refs go out of scope here and are freed when collected
  };

  /** Transfers `from`..`to`-1, `window` at a time; `onDone` after each. */
  const loop = async (from: number, to: number, onDone?: (done: number) => Promise<void>): Promise<void> => {
    let next = from;
    let failure: unknown;
    const worker = async (): Promise<void> => {
      while (next < to && failure === undefined) {
        const i = next++;
        try {
          await one(i);
        } catch (e) {
          failure ??= e;
          return;
        }
        if (onDone) await onDone(i + 1 - from);
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, to - from) }, worker));
    if (failure !== undefined) throw failure;
  };

  /** Collect garbage and poll until `check` finds nothing left, or `settleMs` pass. */
  const settle = async (check: (s: SoakSample) => string[], done: number): Promise<{ s: SoakSample; left: string[] }> => {
    const until = Date.now() + settleMs;
    for (;;) {
      await collectRefs();
      const s = await sample('after', done, t0, p, c);
      const left = check(s);
      if (left.length === 0 || Date.now() > until) return { s, left };
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  // Warm-up: endpoints, connections, registered pools and the like exist before the baseline.
  await loop(-warmup, 0);
  const warm = await settle((s) => (held(s.producer) + held(s.consumer) > 0 ? ['held'] : []), 0);
  if (warm.left.length) problems.push(`after the ${warmup} warm-up transfers the actors still hold: producer ${countsOf(warm.s.producer)}; consumer ${countsOf(warm.s.consumer)}`);
  const before: SoakSample = { ...warm.s, phase: 'before', done: 0 };
  const baseChildren = childPids();
  const baseKinds = { driver: fdKinds(), producer: fdKinds(before.producer.pid), consumer: fdKinds(before.consumer.pid) };
  o.onSample?.(before);
  let peak = before;

  const loopStart = Date.now();
  let sampling = Promise.resolve();
  await loop(0, o.transfers, async (done) => {
    if (done % every !== 0 || done === o.transfers) return;
    // One sample at a time; transfers go on meanwhile.
    sampling = sampling.then(async () => {
      const s = await sample('during', done, t0, p, c);
      peak = maxOf(peak, s);
      o.onSample?.(s);
    });
    await sampling;
  });
  const loopMs = Date.now() - loopStart;
  await sampling;
  const end = await sample('end', o.transfers, t0, p, c);
  peak = maxOf(peak, end);
  o.onSample?.(end);

  const settled = await settle((s) => leftovers(before, s, fdSlack, baseChildren), o.transfers);
  const after = settled.s;
  o.onSample?.(after);
  problems.push(...settled.left.map((l) => `${l} (after ${settleMs} ms of waiting)`));
  if (settled.left.some((l) => l.includes('file descriptors'))) {
    problems.push(
      `descriptors gained by kind: driver ${JSON.stringify(fdKindsDiff(baseKinds.driver, fdKinds()))}, ` +
        `producer ${JSON.stringify(fdKindsDiff(baseKinds.producer, fdKinds(after.producer.pid)))}, ` +
        `consumer ${JSON.stringify(fdKindsDiff(baseKinds.consumer, fdKinds(after.consumer.pid)))}`,
    );
  }
  return { transfers: o.transfers, loopMs, wrong, before, end, after, peak, problems };
}

const mib = (b?: number) => (b === undefined ? '-' : (b / 2 ** 20).toFixed(1));
const num = (n?: number) => (n === undefined ? '-' : String(n));

/** A Markdown table of a soak's before / peak / end / after readings. */
export function soakTable(r: SoakResult): string {
  const rows: Array<[string, (s: SoakSample) => string]> = [
    ['driver RSS (MiB)', (s) => mib(s.driver.rss)],
    ['producer RSS (MiB)', (s) => mib(s.producer.rss)],
    ['consumer RSS (MiB)', (s) => mib(s.consumer.rss)],
    ['driver open fds', (s) => num(s.driver.fds)],
    ['producer open fds', (s) => num(s.producer.fds)],
    ['consumer open fds', (s) => num(s.consumer.fds)],
    ['driver child processes', (s) => num(s.driver.children)],
    ['object table entries (driver)', (s) => num(s.store?.entries)],
    ['object store objects (driver)', (s) => num(s.store?.objects)],
    ['object store bytes (driver)', (s) => num(s.store?.bytes)],
    ['producer GPU objects held', (s) => num(s.producer.gpuObjects)],
    ['producer tensors held', (s) => num(s.producer.tensors)],
    ['producer sends in flight', (s) => num(s.producer.pendingTransfers)],
    ['consumer received copies held', (s) => num(s.consumer.receivedCopies)],
    ['consumer GPU objects held', (s) => num(s.consumer.gpuObjects)],
  ];
  const lines = [
    '| metric | before | peak | end of loop | after (settled) |',
    '|---|---:|---:|---:|---:|',
    ...rows.map(([name, f]) => `| ${name} | ${f(r.before)} | ${f(r.peak)} | ${f(r.end)} | ${f(r.after)} |`),
  ];
  return lines.join('\n');
}
