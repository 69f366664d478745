/**
 * PyTorch's `torch.distributed` NCCL send/recv between two processes on cuda:0 (ping-pong, one
 * way = round trip / 2), when Python with a CUDA-enabled torch is here; skipped, saying why,
 * otherwise. Both ranks share the GPU: NCCL_MULTI_RANK_GPU_ENABLE=1 for NCCL >= 2.30, a distinct
 * NCCL_HOSTID per rank before (as the transport does).
 */
import { spawn as spawnProcess, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { pythonExecutable } from '../python-nccl';
import { summarize, type PathReport } from './results';

/** The peer: argv rank, port, sizes (comma separated), reps (comma separated), warmup; prints JSON round trips (ns). */
const PEER = `
import json, os, sys, time
import torch, torch.distributed as dist
rank, port = int(sys.argv[1]), sys.argv[2]
sizes = [int(x) for x in sys.argv[3].split(',')]
reps = [int(x) for x in sys.argv[4].split(',')]
warmup = int(sys.argv[5])
torch.cuda.set_device(0)
kw = dict(init_method='tcp://127.0.0.1:' + port, rank=rank, world_size=2)
try:
    dist.init_process_group('nccl', device_id=torch.device('cuda', 0), **kw)
except TypeError:  # torch before 2.3
    dist.init_process_group('nccl', **kw)
out = []
for size, n in zip(sizes, reps):
    buf = torch.empty(size, dtype=torch.uint8, device='cuda')
    times = []
    for i in range(warmup + n):
        torch.cuda.synchronize()
        t0 = time.perf_counter_ns()
        if rank == 0:
            dist.send(buf, 1); dist.recv(buf, 1)
        else:
            dist.recv(buf, 0); dist.send(buf, 0)
        torch.cuda.synchronize()
        if i >= warmup: times.append(time.perf_counter_ns() - t0)
    out.append(times)
if rank == 0: print(json.dumps({'samples': out, 'torch': torch.__version__, 'nccl': '.'.join(map(str, torch.cuda.nccl.version()))}))
dist.destroy_process_group()
`;

/** Why torch cannot run here, or undefined when it can. */
export function torchUnavailable(): string | undefined {
  const r = spawnSync(pythonExecutable(), ['-c', 'import torch, sys; sys.exit(0 if torch.cuda.is_available() and torch.distributed.is_nccl_available() else 3)'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) return `no Python (${pythonExecutable()}: ${r.error.message})`;
  if (r.status === 3) return 'torch is installed without CUDA or NCCL (or sees no GPU)';
  if (r.status !== 0) return `no torch in ${pythonExecutable()} (${(r.stderr || '').trim().split('\n').pop()})`;
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function runTorchNccl(options: { sizes: readonly number[]; reps: (size: number) => number; warmup?: number }): Promise<PathReport> {
  const name = 'torch.distributed NCCL send/recv';
  const why = torchUnavailable();
  if (why) return { path: name, results: [], skipped: why };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-torch-nccl-'));
  const script = path.join(dir, 'peer.py');
  fs.writeFileSync(script, PEER);
  const port = String(await freePort());
  const args = [options.sizes.join(','), options.sizes.map((s) => options.reps(s)).join(','), String(options.warmup ?? 3)];
  try {
    const runs = [0, 1].map(
      (rank) =>
        new Promise<string>((resolve, reject) => {
          const env = { ...process.env, NCCL_MULTI_RANK_GPU_ENABLE: process.env.NCCL_MULTI_RANK_GPU_ENABLE ?? '1', NCCL_HOSTID: process.env.NCCL_HOSTID ?? `torch-bench-rank-${rank}` };
          const p = spawnProcess(pythonExecutable(), [script, String(rank), port, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          let err = '';
          p.stdout.on('data', (d) => (out += d));
          p.stderr.on('data', (d) => (err += d));
          p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`torch rank ${rank} exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`))));
        }),
    );
    const [out] = await Promise.all(runs);
    const r = JSON.parse(out.trim().split('\n').pop()!) as { samples: number[][]; torch: string; nccl: string };
    return { path: name, results: options.sizes.map((size, i) => summarize(size, r.samples[i].map((ns) => ns / 2000))), note: `torch ${r.torch}, its NCCL ${r.nccl}` };
  } catch (err) {
    return { path: name, results: [], skipped: `failed: ${(err as Error).message}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
