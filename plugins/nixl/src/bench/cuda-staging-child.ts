/** Producer process of runCudaStagingRead (cuda-staging.ts): one CPU and one CUDA tensor per size. */
import '@tensorwire/cuda';
import { Tensor } from '@tensorwire/core';
import { NixlEndpoint } from '../endpoint';
import type { StagingMessage } from './cuda-staging';

const send = (m: StagingMessage) => process.send?.(m);

/** Module-level: the endpoint must outlive main() (a collected agent stops serving reads). */
let ep: NixlEndpoint | undefined;

async function main(): Promise<void> {
  const sizes = JSON.parse(process.argv[2]) as number[];
  const endpoint = new NixlEndpoint('bench-cuda-producer');
  ep = endpoint;
  const keep: Tensor[] = [];
  const regions = [];
  for (const bytes of sizes) {
    const host = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i++) host[i] = i % 251;
    const cpu = Tensor.fromBytes(host, 'uint8', [bytes]);
    const cuda = await cpu.toAsync('cuda:0');
    keep.push(cpu, cuda);
    regions.push({ bytes, cpu: await endpoint.register([cpu]), cuda: await endpoint.register([cuda]) });
  }
  send({ type: 'ready', regions });
  setInterval(() => [keep.length, ep], 1 << 30); // serve reads until the parent kills this process
}

main().catch((e: unknown) => {
  send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  setTimeout(() => process.exit(1), 100);
});
