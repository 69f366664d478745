/** The bare ceilings of `@tensorwire/cuda-ipc/bench` run (on the mock: the code paths, not the speed). */
import './testing/driver-under-test';
import test from 'ava';
import { runBareIpcCopy, runInProcessCopy } from './bench';

test.serial('bare copies in one process and across processes through CUDA IPC', async (t) => {
  const sizes = [1024, 2 ** 20];
  for (const r of [await runInProcessCopy({ sizes, reps: 5 }), await runBareIpcCopy({ sizes, reps: 5 })]) {
    t.deepEqual(r.rows.map((row) => row.bytes), sizes, r.kind);
    for (const row of r.rows) t.true(row.medianUs > 0 && row.gbps > 0, JSON.stringify(row));
    t.log(r.kind, r.rows.map((row) => `${row.bytes} B: ${row.medianUs.toFixed(0)} us`).join(', '));
  }
});
