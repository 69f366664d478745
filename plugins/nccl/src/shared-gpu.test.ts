/**
 * Two ranks on one GPU: what the plugin tells NCCL (NCCL_MULTI_RANK_GPU_ENABLE from 2.30, a
 * distinct NCCL_HOSTID per rank before), and NCCL's refusal when it is not told. The mock NCCL
 * refuses as NCCL does and reports the version it is given; its two mock GPUs tell sharing apart.
 */
import './test/mocks';
import test from 'ava';
import { PeerError, tensorSpec, type Peer } from '@tensorwire/conformance/testing';
import { planSharedGpu, processWideSettings } from './shared-gpu';
import { mockOnly } from './test/mocks';
import { createGroup, withNcclPeers } from './test/nccl-peers';

async function transferWorks(t: import('ava').ExecutionContext, [a, b]: Peer[], group: string): Promise<void> {
  const transfers = [{ tag: 1, tensors: [tensorSpec(1000, 4)] }];
  const [, got] = await Promise.all([
    a.call('cudaSend', { group, dst: 1, transfers }),
    b.call<{ problems: string[] }>('cudaRecv', { group, src: 0, transfers }),
  ]);
  t.deepEqual(got.problems, []);
}

const env = (version: string, extra: Record<string, string | undefined> = {}) => ({ TENSORWIRE_MOCK_NCCL_VERSION: version, NCCL_HOSTID: undefined, NCCL_MULTI_RANK_GPU_ENABLE: undefined, ...extra });

mockOnly('NCCL 2.30 and later: NCCL_MULTI_RANK_GPU_ENABLE=1, no NCCL_HOSTID', async (t) => {
  await withNcclPeers([env('2.30.7'), env('2.30.7')], async (peers) => {
    await createGroup(peers, 'same-gpu');
    for (const p of peers) t.deepEqual(await p.call('ncclEnv', {}), { NCCL_MULTI_RANK_GPU_ENABLE: '1' });
    await transferWorks(t, peers, 'same-gpu');
  });
});

mockOnly('before NCCL 2.30: each rank sharing the GPU gets its own NCCL_HOSTID', async (t) => {
  await withNcclPeers([env('2.27.3'), env('2.27.3')], async (peers) => {
    await createGroup(peers, 'hostids');
    const ids = await Promise.all(peers.map(async (p) => (await p.call<Record<string, string>>('ncclEnv', {})).NCCL_HOSTID));
    t.truthy(ids[0]);
    t.truthy(ids[1]);
    t.not(ids[0], ids[1]);
    await transferWorks(t, peers, 'hostids');
  });
});

mockOnly('ranks on different GPUs of the host get nothing set (NCCL keeps its intra-node paths)', async (t) => {
  await withNcclPeers([env('2.27.3', { CUDA_VISIBLE_DEVICES: '0' }), env('2.27.3', { CUDA_VISIBLE_DEVICES: '1' })], async (peers) => {
    await createGroup(peers, 'two-gpus');
    for (const p of peers) t.deepEqual(await p.call('ncclEnv', {}), {});
    await transferWorks(t, peers, 'two-gpus');
  });
});

mockOnly("NCCL refuses two ranks on one GPU when it is not told: its error, with NCCL's words", async (t) => {
  await withNcclPeers(
    [env('2.27.3'), env('2.27.3')],
    async (peers) => {
      const results = await Promise.allSettled(peers.map((p, rank) => p.call('createGroup', { group: 'refused', rank, worldSize: 2, timeoutMs: 10000 })));
      for (const r of results) {
        const e = (r as PromiseRejectedResult).reason as PeerError;
        t.is(e.code, 'NCCL_INVALID_USAGE');
        t.regex(e.message, /connect failed: .*communicator initialization failed \(asynchronous error\): NCCL ncclInvalidUsage \(invalid usage\): Duplicate GPU detected: rank 0 and rank 1 both on CUDA device 0/);
      }
    },
    { sharedGpu: 'off' },
  );
  await withNcclPeers([env('2.30.7', { NCCL_MULTI_RANK_GPU_ENABLE: '0' }), env('2.30.7', { NCCL_MULTI_RANK_GPU_ENABLE: '0' })], async (peers) => {
    const results = await Promise.allSettled(peers.map((p, rank) => p.call('createGroup', { group: 'told-no', rank, worldSize: 2, timeoutMs: 10000 })));
    for (const r of results) t.regex(((r as PromiseRejectedResult).reason as Error).message, /set NCCL_MULTI_RANK_GPU_ENABLE=1 to allow it/);
  });
});

test('planSharedGpu: who shares, what is set, and when it is too late for NCCL_HOSTID', (t) => {
  const ids = ['h/0000:01:00', 'h/0000:01:00', 'h/0000:02:00'];
  const base = { identities: ids, communicatorsCreated: 0, env: {}, group: 'g' };
  t.deepEqual(planSharedGpu({ ...base, rank: 2, versionCode: 22703 }), { set: {}, sharing: [] });
  const old = planSharedGpu({ ...base, rank: 0, versionCode: 22703 });
  t.deepEqual(old.sharing, [1]);
  t.regex(old.set.NCCL_HOSTID ?? '', new RegExp(`-tensorwire-${process.pid}$`));
  t.deepEqual(planSharedGpu({ ...base, rank: 1, versionCode: 23007 }), { set: {}, sharing: [0] });
  t.deepEqual(planSharedGpu({ ...base, rank: 1, versionCode: 22703, env: { NCCL_HOSTID: 'mine' } }).set, {}, "the user's NCCL_HOSTID stays");
  const late = t.throws(() => planSharedGpu({ ...base, rank: 1, versionCode: 22703, communicatorsCreated: 1 }));
  t.is((late as { code?: string }).code, 'NCCL_SHARED_GPU');
  t.regex(late!.message, /shares its GPU with rank\(s\) 0, which NCCL 2\.27\.3 allows only when each rank has its own NCCL_HOSTID/);
  t.deepEqual(processWideSettings(23000, {}), { NCCL_MULTI_RANK_GPU_ENABLE: '1' });
  t.deepEqual(processWideSettings(23000, { NCCL_MULTI_RANK_GPU_ENABLE: '0' }), {});
  t.deepEqual(processWideSettings(22999, {}), {});
});
