/**
 * The spec's NIXL section in TypeScript: a one-sided transport, no collective group; the
 * consumer (or `get` in the driver) reads the tensors straight from the producer's memory.
 * Run: node examples/dist/nixl-walkthrough/main.js
 */
import { get, init, shutdown, spawn } from '@tensorwire/core';
import { MyActor } from './actors';

async function main(): Promise<void> {
  await init();
  const sender = await spawn(MyActor, { name: 'sender' });
  const receiver = await spawn(MyActor, { name: 'receiver' });

  console.log('[1] pass a nixl GPU object to another actor: no collective group');
  const tensor = sender.randomTensor.remote();
  console.log(`    receiver.sum(tensor) = ${(await get(receiver.sum.remote(tensor))).toFixed(4)}`);

  console.log('[2] get() reads over NIXL by default (the driver is an agent too)');
  const viaNixl = await get(tensor);
  console.log(`    get(tensor) sum = ${viaNixl.sum().toFixed(4)}`);

  console.log('[3] or through the object store, when asked');
  const viaStore = await get(tensor, { tensorTransport: 'object-store' });
  console.log(`    get(tensor, { tensorTransport: 'object-store' }) equal: ${viaStore.equals(viaNixl)}`);

  console.log('[4] put() inside an actor makes a GPU object others read directly');
  const weights = await get(sender.putWeights.remote());
  const w = await get(weights);
  console.log(`    weights.w sum = ${w.w.sum()}, step = ${w.step}`);

  console.log('[5] tensors in the registered memory pool are read with a true one-sided copy');
  console.log(`    receiver.sum(sender.pooled()) = ${await get(receiver.sum.remote(sender.pooled.remote()))}`);

  await shutdown();
  console.log('done');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
