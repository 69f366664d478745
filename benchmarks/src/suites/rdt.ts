/**
 * Ray RDT's single-node microbenchmark shapes (Ray's
 * release/microbenchmark/experimental/rdt_single_node_microbenchmark.py), so our figures can be
 * set against theirs when they publish them. Per transport (the object store, and each
 * section's GPU-object transport: gloo, nixl with Node memory) and size (4 B, 150 KB, 1 MB,
 * 100 MB, 1 GB: Ray's KB and MB are KiB and MiB), two modes:
 * - fresh object per receive: each transfer is a new `make(size)` on the sender (a new tensor
 *   of ones, every byte written, as Ray's `torch.ones`) and a `recv` of it on the receiver;
 * - same object received repeatedly: one `make(size)`, then `recv` of that one ref N times.
 * Ray runs N transfers (50; 10 at 1 GB) all in flight and reports the total time; we run them
 * with at most a window in flight (1 GiB of transfers at once: 10 at 100 MB, 1 at 1 GB, all
 * 50 below), so a 1 GB run does not hold 10 GB, and report the time per transfer (total / N)
 * and GB/s (size / time per transfer). The sender's ref is freed after its receive (fresh) or
 * after the last receive (same), as Ray's refs go out of scope.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { free, get, type ActorHandle, type TensorTransportName } from '@tensorwire/core';
import { LABELS } from '../harness/labels';
import { median, sizeLabel } from '../harness/stats';
import { isQuick } from '../harness/warmup';
import type { BenchActor } from './bench-actor';
import type { Section } from './transports';

/** Ray's sizes: 4 B, 150 KB, 1 MB, 100 MB, 1 GB. */
export const RDT_SIZES = [4, 150 * 1024, 1 << 20, 100 << 20, 1 << 30] as const;

/** Transfers in flight at most: 1 GiB of them, at least 1, at most N. */
const IN_FLIGHT_BYTES = 1 << 30;

export type RdtMode = 'fresh object per receive' | 'same object received repeatedly';

export interface RdtResult {
  transport: string;
  mode: RdtMode;
  bytes: number;
  /** Transfers per timed round (Ray's num_transfers). */
  transfers: number;
  /** Transfers in flight at most. */
  inFlight: number;
  /** Timed rounds; the result is the median round. */
  rounds: number;
  perTransferUs: number;
  gbps: number;
}

/** Ray's transfer counts: 50, and 10 at 1 GB (a tenth of each in quick runs, at least 5 and 2). */
function transfersFor(bytes: number): number {
  const n = bytes >= 1 << 30 ? 10 : 50;
  return isQuick() ? Math.max(bytes >= 1 << 30 ? 2 : 5, Math.ceil(n / 10)) : n;
}

/** Timed rounds: 5 up to 1 MB (a round takes milliseconds), 1 above (as Ray); 2 and 1 in quick runs. */
function roundsFor(bytes: number): number {
  return bytes <= 1 << 20 ? (isQuick() ? 2 : 5) : 1;
}

/** Bytes the kernel says it can give without swapping (MemAvailable), or os.freemem(). */
export function availableMemory(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall through
  }
  return os.freemem();
}

/**
 * Memory a size needs, all processes together: per transfer in flight the sender's tensor, a
 * copy in the driver's store (object store path) and the receiver's buffer, plus as much again
 * for buffers dropped but not yet collected.
 */
function memoryNeeded(bytes: number, inFlight: number): number {
  return bytes * inFlight * 3 * 2;
}

/** Runs `total` jobs with at most `window` in flight. */
export async function windowed(total: number, window: number, job: () => Promise<void>): Promise<void> {
  let started = 0;
  const lane = async (): Promise<void> => {
    while (started < total) {
      started++;
      await job();
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, total) }, lane));
}

interface RdtTransport {
  name: string;
  transport?: TensorTransportName;
  section?: Section;
}

/**
 * The transports of the run: the object store, and each section's first path that is not in
 * registered memory (gloo; nixl with Node memory, as a tensor a method returns).
 */
export function rdtTransports(sections: readonly Section[]): RdtTransport[] {
  const out: RdtTransport[] = [{ name: 'object store' }];
  for (const section of sections) {
    const path = section.paths.find((p) => p.transport && !p.registered);
    if (path) out.push({ name: path.label === LABELS.nixlNode ? 'nixl (Node memory)' : section.name, transport: path.transport, section });
  }
  return out;
}

/** Every transport x size x mode between `a` (sender) and `b` (receiver), which must be idle. */
export async function rdtShapes(
  a: ActorHandle<BenchActor>,
  b: ActorHandle<BenchActor>,
  sections: readonly Section[],
  sizes: readonly number[],
  say: (line: string) => void,
): Promise<RdtResult[]> {
  const out: RdtResult[] = [];
  for (const tr of rdtTransports(sections)) {
    let undo: (() => Promise<void>) | undefined;
    try {
      undo = await tr.section?.setup?.(a, b);
    } catch (err) {
      say(`  ${tr.name} skipped: ${(err as Error).message}`);
      continue;
    }
    try {
      const make = tr.transport ? a.make.options({ tensorTransport: tr.transport }) : a.make;
      for (const n of sizes) {
        const transfers = transfersFor(n);
        const inFlight = Math.max(1, Math.min(transfers, Math.floor(IN_FLIGHT_BYTES / n)));
        const need = memoryNeeded(n, inFlight);
        const avail = availableMemory();
        if (need > avail) {
          say(`  ${tr.name} ${sizeLabel(n)}: skipped, needs ~${(need / 2 ** 30).toFixed(1)} GiB of free memory and ${(avail / 2 ** 30).toFixed(1)} GiB is available`);
          continue;
        }
        const fresh = (): Promise<void> =>
          windowed(transfers, inFlight, async () => {
            const ref = make.remote(n);
            await get(b.recv.remote(ref));
            await free(ref);
          });
        const same = async (): Promise<void> => {
          const ref = make.remote(n);
          await windowed(transfers, inFlight, async () => void (await get(b.recv.remote(ref))));
          await free(ref);
        };
        const modes: Array<[RdtMode, () => Promise<void>]> = [
          ['fresh object per receive', fresh],
          ['same object received repeatedly', same],
        ];
        for (const [mode, round] of modes) {
          // Warm-up: one round up to 1 MB; one transfer above (as Ray: its code is warm by then).
          if (n <= 1 << 20) await round();
          else {
            const ref = make.remote(n);
            await get(b.recv.remote(ref));
            await free(ref);
          }
          const rounds = roundsFor(n);
          const times: number[] = [];
          for (let r = 0; r < rounds; r++) {
            const t0 = performance.now();
            await round();
            times.push(performance.now() - t0);
          }
          const perTransferUs = (median(times) * 1000) / transfers;
          const result: RdtResult = { transport: tr.name, mode, bytes: n, transfers, inFlight, rounds, perTransferUs, gbps: n / (perTransferUs * 1000) };
          say(`  ${tr.name.padEnd(20)} ${sizeLabel(n).padStart(8)}  ${mode.padEnd(32)} ${formatUs(perTransferUs).padStart(10)} per transfer  ${result.gbps.toFixed(3)} GB/s  (${transfers} transfers, ${inFlight} in flight)`);
          out.push(result);
        }
      }
    } finally {
      await undo?.();
    }
  }
  return out;
}

function formatUs(x: number): string {
  return x >= 10_000 ? `${(x / 1000).toFixed(1)} ms` : `${x.toFixed(0)} us`;
}

/** One row per transport and mode, one column per size: time per transfer and GB/s. */
export function rdtTable(rs: readonly RdtResult[]): string {
  const sizes = [...new Set(rs.map((r) => r.bytes))].sort((x, y) => x - y);
  const rows = [...new Set(rs.map((r) => `${r.transport}|${r.mode}`))];
  const cell = (key: string, n: number): string => {
    const r = rs.find((x) => `${x.transport}|${x.mode}` === key && x.bytes === n);
    return r ? `${formatUs(r.perTransferUs)}, ${r.gbps >= 0.01 ? r.gbps.toFixed(2) : r.gbps.toExponential(1)} GB/s` : '-';
  };
  return [
    `| transport | mode | ${sizes.map(sizeLabel).join(' | ')} |`,
    `|---|---|${sizes.map(() => '---').join('|')}|`,
    ...rows.map((key) => {
      const [transport, mode] = key.split('|');
      return `| ${transport} | ${mode} | ${sizes.map((n) => cell(key, n)).join(' | ')} |`;
    }),
  ].join('\n');
}
