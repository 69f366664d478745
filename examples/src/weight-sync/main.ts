/**
 * Weight synchronisation, the RL pattern: a trainer publishes its weights each step, and two
 * inference actors receive them straight into the tensors they already use (keepRef +
 * `get(ref, { into })`). Prints each step's transfer time over the transport against the
 * object-store path (a CPU copy through the driver).
 * Run: node examples/dist/weight-sync/main.js [gloo|nixl] [steps] [MiB of weights]
 */
import { createCollectiveGroup, get, init, keepRef, shutdown, spawn, transportName } from '@tensorwire/core';
import { Inference, Trainer, valueAt } from './actors';

async function main(): Promise<void> {
  const transport = transportName(process.argv[2] ?? 'gloo');
  const steps = Number(process.argv[3] ?? 5);
  const mib = Number(process.argv[4] ?? 64);
  // Three weight matrices and a bias, about `mib` MiB of float32 in all.
  const side = Math.max(1, Math.floor(Math.sqrt((mib * 1024 * 1024) / 4 / 3)));
  const shapes = [[side, side], [side, side], [side, side], [side]];
  await init();
  const trainer = await spawn(Trainer, { name: 'trainer', args: [shapes] });
  const samplers = await Promise.all([0, 1].map((i) => spawn(Inference, { name: `inference-${i}`, args: [shapes] })));
  if (transport === 'gloo') {
    // Two-sided: the trainer and both samplers in one group (nixl needs none).
    await createCollectiveGroup([trainer, ...samplers], { backend: 'gloo', name: 'weights' });
  }
  console.log(`weight sync over ${transport}: ${shapes.length} tensors, ${mib} MiB, ${steps} steps, 2 inference actors`);
  console.log('step   over the transport (ms, each actor)   through the object store (ms, each actor)');
  for (let step = 1; step <= steps; step++) {
    const weights = trainer.step.options({ tensorTransport: transport }).remote(step);
    const direct = await get(samplers.map((s) => s.sync.remote(keepRef(weights), false)));
    const ok = await get(samplers.map((s) => s.holds.remote(valueAt(step))));
    const viaStore = await get(samplers.map((s) => s.sync.remote(keepRef(weights), true)));
    if (!ok.every(Boolean)) throw new Error(`step ${step}: an inference actor does not hold the new weights`);
    const ms = (xs: number[]) => xs.map((x) => x.toFixed(1).padStart(7)).join(' ');
    console.log(`${String(step).padStart(4)}   ${ms(direct).padEnd(38)}  ${ms(viaStore)}`);
  }
  await shutdown();
  console.log('done: every inference actor held each step\'s weights in its own tensors');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
