/** Child process of runBareUcxRead (see bare-read.ts): the producer or the consumer. */
import { loadNative, type NativeAgent } from '../native';
import type { BareMessage, BareReadRow } from './bare-read';

const send = (m: BareMessage) => process.send?.(m);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function producer(agent: NativeAgent, memory: string, sizes: number[]): Promise<void> {
  const keep: Uint8Array[] = [];
  const regions = sizes.map((size) => {
    const buf = memory === 'pool' ? agent.allocate(size) : new Uint8Array(size);
    buf.fill(0xa5);
    keep.push(buf);
    if (size === 0) return { addr: '0', rkey: '', size };
    const r = agent.register(buf);
    return { addr: r.addr.toString(), rkey: r.rkey.toString('base64'), size };
  });
  send({ type: 'ready', address: agent.workerAddress.toString('base64'), pid: process.pid, regions });
  await new Promise<void>((resolve) => process.on('message', (m: { type: string }) => m.type === 'exit' && resolve()));
  keep.length = 0;
}

async function consumer(agent: NativeAgent, reps: number, ucx: string): Promise<void> {
  const ready = await new Promise<Extract<BareMessage, { type: 'ready' }>>((resolve) =>
    process.once('message', (m: BareMessage) => m.type === 'ready' && resolve(m)),
  );
  // No generation table: the bare ceiling is one ucp_get_nbx per read.
  const peer = { address: Buffer.from(ready.address, 'base64'), name: 'bare-producer', pid: ready.pid, genRkey: new Uint8Array(0) };
  const rows: BareReadRow[] = [];
  for (const r of ready.regions) {
    const dst = new Uint8Array(r.size);
    dst.fill(1); // fault the pages in before timing
    const region = { addr: BigInt(r.addr), rkey: Buffer.from(r.rkey, 'base64'), dst, genAddr: 0n, token: 0n };
    const n = r.size >= 64 * 2 ** 20 ? Math.min(reps, 10) : reps;
    const times: number[] = [];
    for (let i = 0; i < n + 3; i++) {
      const t0 = process.hrtime.bigint();
      await agent.read(peer, [region], 60_000);
      const dt = Number(process.hrtime.bigint() - t0) / 1e3;
      if (i >= 3) times.push(dt);
    }
    if (r.size > 0 && (dst[0] !== 0xa5 || dst[r.size - 1] !== 0xa5)) throw new Error(`wrong data read for ${r.size} bytes`);
    const us = median(times);
    rows.push({ bytes: r.size, reps: n, medianUs: us, gbps: r.size / (us * 1e3) });
  }
  send({ type: 'done', ucx, rows });
  await new Promise<void>((resolve) => process.on('message', (m: { type: string }) => m.type === 'exit' && resolve()));
}

async function main(): Promise<void> {
  const [role, a, b] = process.argv.slice(2);
  const addon = loadNative();
  const agent = new addon.Agent(`bare-${role}`);
  try {
    if (role === 'producer') await producer(agent, a, JSON.parse(b) as number[]);
    else await consumer(agent, Number(a), addon.ucxVersion());
  } finally {
    await agent.close();
  }
  process.disconnect?.();
}

main().catch((e: unknown) => {
  send({ type: 'error', message: e instanceof Error ? `${e.message} (${(e as { code?: string }).code ?? ''})` : String(e) });
  setTimeout(() => process.exit(1), 100);
});
