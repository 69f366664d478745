import test from 'ava';
import { rdtTable, windowed, type RdtResult } from './rdt';

test('windowed runs every job with at most the window in flight', async (t) => {
  let now = 0;
  let peak = 0;
  let done = 0;
  await windowed(23, 5, async () => {
    now++;
    peak = Math.max(peak, now);
    await new Promise((r) => setTimeout(r, 1));
    now--;
    done++;
  });
  t.deepEqual([done, peak], [23, 5]);
  peak = 0;
  await windowed(3, 50, async () => {
    now++;
    peak = Math.max(peak, now);
    await new Promise((r) => setTimeout(r, 1));
    now--;
  });
  t.is(peak, 3);
});

test('the RDT table has a row per transport and mode and a column per size', (t) => {
  const r = (transport: string, mode: RdtResult['mode'], bytes: number, perTransferUs: number): RdtResult => ({
    transport, mode, bytes, transfers: 50, inFlight: 50, rounds: 5, perTransferUs, gbps: bytes / (perTransferUs * 1000),
  });
  const md = rdtTable([
    r('gloo', 'fresh object per receive', 4, 300),
    r('gloo', 'fresh object per receive', 1 << 30, 350_000),
    r('gloo', 'same object received repeatedly', 4, 250),
  ]);
  t.is(
    md,
    [
      '| transport | mode | 4 B | 1 GiB |',
      '|---|---|---|---|',
      '| gloo | fresh object per receive | 300 us, 1.3e-5 GB/s | 350.0 ms, 3.07 GB/s |',
      '| gloo | same object received repeatedly | 250 us, 1.6e-5 GB/s | - |',
    ].join('\n'),
  );
});
