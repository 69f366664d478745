/**
 * Benchmark of what the runtime does per transfer: allocate(n) from the registered pool, read a
 * producer's pool tensor into it, drop it. Prints JSON: per-round milliseconds for 64 MiB, the
 * median endpoint-path latency of 1 KiB reads, and the bare UCX ceiling for comparison.
 *
 *   node dist/bench/pool-rounds.js [rounds=10]
 *
 * A development tool of this repository, not shipped (package.json "files"): its producer is a
 * peer of the shared test harness (@tensorwire/conformance/testing, a devDependency).
 */
import { cpuTensor } from '@tensorwire/conformance/testing';
import type { NixlEndpoint } from '../endpoint';
import { nixlPlugin, type NixlDescriptor } from '../index';
import { nixlPeers, regions } from '../testing/nixl-peers';
import { runBareUcxRead } from './bare-read';

const MiB = 2 ** 20;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 10);
  const consumer = (await nixlPlugin.createEndpoint({ processName: 'bench-consumer', options: {}, log: () => undefined })) as NixlEndpoint;
  const peers = nixlPeers();
  const producer = await peers.startOne('bench-producer');
  try {
    const register = async (size: number) =>
      (await producer.call<{ desc: NixlDescriptor }>('register', { specs: regions([size]), pool: true })).desc;
    const big = await register(64 * MiB);
    const small = await register(1024);

    const bigRounds: number[] = [];
    const bigReads: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = process.hrtime.bigint();
      let dst: Uint8Array | undefined = consumer.allocate(64 * MiB);
      const t1 = process.hrtime.bigint();
      await consumer.read(big, [cpuTensor(dst)], 60_000);
      bigReads.push(ms(t1));
      dst = undefined; // dropped, as the runtime does after the call
      bigRounds.push(ms(t0));
    }

    // The same read into one kept destination: pool memory, then Node memory (both touched).
    const keptRead = async (dst: Uint8Array) => {
      const times: number[] = [];
      for (let i = 0; i < 8; i++) {
        const t0 = process.hrtime.bigint();
        await consumer.read(big, [cpuTensor(dst)], 60_000);
        if (i >= 2) times.push(ms(t0));
      }
      return Math.round(median(times) * 10) / 10;
    };
    const keptPool64MiBMs = await keptRead(consumer.allocate(64 * MiB));
    const keptNode64MiBMs = await keptRead(new Uint8Array(64 * MiB));

    const kept = consumer.allocate(1024);
    const keptUs: number[] = [];
    const allocUs: number[] = [];
    for (let i = 0; i < 503; i++) {
      const t0 = process.hrtime.bigint();
      await consumer.read(small, [cpuTensor(kept)], 60_000);
      if (i >= 3) keptUs.push(ms(t0) * 1e3);
    }
    for (let i = 0; i < 503; i++) {
      const t0 = process.hrtime.bigint();
      const dst = consumer.allocate(1024);
      await consumer.read(small, [cpuTensor(dst)], 60_000);
      if (i >= 3) allocUs.push(ms(t0) * 1e3);
    }
    const stats = consumer.stats();
    const bare = await runBareUcxRead({ sizes: [1024, 64 * MiB], reps: 200, pool: true });
    console.log(
      JSON.stringify(
        {
          rounds64MiBMs: bigRounds.map((x) => Math.round(x * 10) / 10),
          median64MiBMs: Math.round(median(bigRounds) * 10) / 10,
          medianRead64MiBMs: Math.round(median(bigReads) * 10) / 10,
          keptPool64MiBMs,
          keptNode64MiBMs,
          read1KiBUs: Math.round(median(keptUs)),
          allocRead1KiBUs: Math.round(median(allocUs)),
          bare: bare.rows.map((r) => ({ bytes: r.bytes, medianUs: Math.round(r.medianUs), gbps: Math.round(r.gbps * 10) / 10 })),
          consumerStats: stats,
        },
        null,
        1,
      ),
    );
  } finally {
    await peers.killAll();
    await consumer.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
