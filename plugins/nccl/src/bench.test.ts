/**
 * The NCCL benchmark runs its paths quickly on the mocks, so that it does not rot between GPU
 * runs (its figures on the mocks measure host sockets, not NCCL: the report says so).
 */
import { usingMocks } from './test/mocks';
import test from 'ava';
import { formatReport, judge, runNcclBench, type NcclBenchReport } from './bench';

test.serial('every path runs and the report judges the targets from what ran', async (t) => {
  if (!usingMocks) return t.pass('the GPU check runs the full benchmark (bench/main.js)');
  const report = await runNcclBench({ sizes: [1024, 64 << 10], reps: () => 3, warmup: 1 });
  t.true(report.mock);
  const byPath = new Map(report.paths.map((p) => [p.path, p]));
  for (const name of ['bare NCCL send/recv, two plain processes (ceiling)', 'nccl GPU object, actor to actor (one at a time)', 'nccl GPU object, actor to actor (4 in flight, per transfer)']) {
    const p = byPath.get(name);
    t.truthy(p, `${name} is in the report`);
    t.deepEqual(p!.results.map((r) => r.size), [1024, 64 << 10]);
    for (const r of p!.results) t.true(r.medianUs > 0 && Number.isFinite(r.gbps), `${name} ${r.size}`);
  }
  const torch = report.paths.find((p) => p.path.startsWith('torch'));
  t.truthy(torch!.skipped ?? torch!.results.length, 'torch ran or says why not');
  const text = formatReport(report);
  t.regex(text, /On the mocks .* not a GPU/);
  t.regex(text, /\| bare NCCL send\/recv, two plain processes \(ceiling\) \| \d+ us \| \d+ us \|/);
});

test('the targets: >= 90% of bare NCCL from 64 MiB, ahead of torch from 1 MiB', (t) => {
  const r = (size: number, gbps: number) => ({ size, reps: 1, medianUs: size / gbps / 1e3, minUs: 0, gbps });
  const report: NcclBenchReport = {
    when: 'now', mock: false, nccl: '2.30.7',
    paths: [
      { path: 'bare NCCL send/recv, two plain processes (ceiling)', results: [r(1 << 20, 10), r(64 << 20, 100), r(1 << 30, 200)] },
      { path: 'nccl GPU object, actor to actor (one at a time)', results: [r(1 << 20, 5), r(64 << 20, 95), r(1 << 30, 150)] },
      { path: 'torch.distributed NCCL send/recv', results: [r(1 << 20, 4), r(64 << 20, 90), r(1 << 30, 160)] },
    ],
  };
  t.deepEqual(judge(report), [
    'nccl GPU object, actor to actor (one at a time) vs bare NCCL (target >= 90% from 64 MiB): 64 MiB 95%, 1 GiB 75% (below 90%)',
    'nccl GPU object, actor to actor (one at a time) vs torch.distributed (target: ahead from 1 MiB): 1 MiB 1.25x, 64 MiB 1.06x, 1 GiB 0.94x (behind)',
  ]);
});
