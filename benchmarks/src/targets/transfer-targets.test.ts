import test from 'ava';
import { LABELS } from '../harness/labels';
import type { Measurement } from '../harness/stats';
import { evaluateTransferTargets } from './transfer-targets';

const KiB = 1 << 10;
const MiB = 1 << 20;

/** A measurement with a given median time (us) or throughput (GB/s). */
function row(path: string, bytes: number, x: { us?: number; gbps?: number }): Measurement {
  const medianUs = x.us ?? bytes / (x.gbps! * 1000);
  return { path, bytes, medianUs, p90Us: medianUs, gbps: bytes / (medianUs * 1000), reps: 1 };
}

/** Figures where every target is met. */
function allMet(): Measurement[] {
  const rs: Measurement[] = [row(LABELS.emptyCall, 0, { us: 100 })];
  for (const p of [LABELS.objectStore, LABELS.glooObject, LABELS.nixlNode, LABELS.nixlPool]) rs.push(row(p, KiB, { us: p === LABELS.objectStore ? 290 : 280 }));
  for (const n of [64 * MiB, 256 * MiB]) {
    rs.push(row(LABELS.socket, n, { gbps: 2 }), row(LABELS.memcpy, n, { gbps: 16 }));
    rs.push(row(LABELS.bareGloo, n, { gbps: 9 }), row(LABELS.torchGloo, n, { gbps: 8.2 }));
    rs.push(row(LABELS.bareUcxNode, n, { gbps: 10 }), row(LABELS.bareUcxPool, n, { gbps: 18 }));
    rs.push(row(LABELS.objectStore, n, { gbps: 8 }), row(LABELS.glooObject, n, { gbps: 8.5 }));
    rs.push(row(LABELS.nixlNode, n, { gbps: 9 }), row(LABELS.nixlPool, n, { gbps: 15 }));
  }
  return rs;
}

test('every target is met when the figures meet them, one line per size >= 64 MiB', (t) => {
  const ts = evaluateTransferTargets(allMet());
  t.true(ts.length > 0);
  t.deepEqual(ts.filter((x) => x.met !== true).map((x) => x.target), []);
  t.is(ts.filter((x) => x.target.startsWith('gloo GPU object >= 90% of bare gloo')).length, 2);
  t.truthy(ts.find((x) => x.target === 'gloo GPU object >= 90% of bare gloo at 256 MiB'));
});

test('the ratios are printed and the verdicts follow them', (t) => {
  const rs = allMet().map((r) => (r.path === LABELS.glooObject && r.bytes === 64 * MiB ? row(r.path, r.bytes, { gbps: 2 }) : r));
  rs.push(row(LABELS.nixlPool, MiB, { us: 3000 }), row(LABELS.objectStore, MiB, { us: 2000 }));
  const ts = evaluateTransferTargets(rs);
  const gloo = ts.find((x) => x.target === 'gloo GPU object >= 90% of bare gloo at 64 MiB')!;
  t.is(gloo.met, false);
  t.is(gloo.value, '2.00 GB/s vs 9.00 GB/s = 22%');
  t.is(ts.find((x) => x.target === 'gloo GPU object ahead of torch.distributed gloo at 64 MiB')!.met, false);
  const nixl = ts.find((x) => x.target === `${LABELS.nixlPool} never slower than the object store`)!;
  t.is(nixl.met, false);
  t.regex(nixl.value, /1 MiB 1\.50x, .*; slower at 1 MiB$/);
  const rtt = ts.find((x) => x.target.startsWith(`1 KiB ${LABELS.objectStore}`))!;
  t.is(rtt.value, '290 us = 2.9x the empty call (100 us)');
});

test('the best path of ordinary memory is judged against memcpy; the opt-in pool path is shown, not counted', (t) => {
  const slow = new Set<string>([LABELS.objectStore, LABELS.glooObject, LABELS.nixlNode]);
  const rs = allMet().map((r) => (slow.has(r.path) && r.bytes === 256 * MiB ? row(r.path, r.bytes, { gbps: r.path === LABELS.nixlNode ? 6 : 1.6 }) : r));
  const m = evaluateTransferTargets(rs).find((x) => x.target.startsWith('CPU tensor between two actors'))!;
  t.is(m.met, false);
  t.is(m.value, `${LABELS.nixlNode} 6.00 GB/s vs memcpy 16.00 GB/s = 38%; the object store 1.60 GB/s = 10%; ${LABELS.nixlPool} (opt-in) 15.00 GB/s = 94%`);
  const fast = rs.map((r) => (r.path === LABELS.nixlNode && r.bytes === 256 * MiB ? row(r.path, r.bytes, { gbps: 9 }) : r));
  t.true(evaluateTransferTargets(fast).find((x) => x.target.startsWith('CPU tensor between two actors'))!.met);
});

test('each nixl memory kind is judged against its own ceiling and says which', (t) => {
  const ts = evaluateTransferTargets(allMet()).filter((x) => x.target.startsWith('nixl GPU object >= 80%'));
  t.is(ts.length, 4);
  t.truthy(ts.find((x) => x.target.includes('at 64 MiB (pool memory: against the bare UCX read of pool memory)') && x.value === '15.00 GB/s vs 18.00 GB/s = 83%'));
  t.truthy(ts.find((x) => x.target.includes('at 256 MiB (Node memory: against the bare UCX read of Node memory)') && x.value === '9.00 GB/s vs 10.00 GB/s = 90%'));
});

test('what the run did not measure is "not measured" with the reason, never met', (t) => {
  const small = allMet().filter((r) => r.bytes <= KiB && r.path !== LABELS.torchGloo);
  const ts = evaluateTransferTargets(small, { torchSkipped: 'python3 cannot import torch' });
  const large = ts.filter((x) => x.target.includes('>= 64 MiB') || x.target.includes('256 MiB'));
  t.true(large.length >= 5);
  for (const x of large) t.is(x.met, undefined);
  t.is(ts.find((x) => x.target.startsWith('object store >= 2x'))!.value, 'no size >= 64 MiB in this run (BENCH_SIZES)');

  const noTorch = evaluateTransferTargets(allMet().filter((r) => r.path !== LABELS.torchGloo), { torchSkipped: 'python3 cannot import torch' });
  const torch = noTorch.filter((x) => x.target.startsWith('gloo GPU object ahead of torch'));
  t.is(torch.length, 2);
  for (const x of torch) t.deepEqual([x.met, x.value], [undefined, 'python3 cannot import torch']);
});

test('a transport not installed here adds no target lines; the two-host rows are not targets', (t) => {
  const rs = allMet()
    .filter((r) => r.path !== LABELS.nixlNode && r.path !== LABELS.nixlPool)
    .concat(row(`2 hosts: ${LABELS.glooObject}`, KiB, { us: 9000 }));
  const ts = evaluateTransferTargets(rs);
  t.false(ts.some((x) => x.target.includes('nixl')));
  t.false(ts.some((x) => x.target.includes('2 hosts')));
  t.deepEqual(ts.filter((x) => x.met !== true).map((x) => x.target), []);
});
