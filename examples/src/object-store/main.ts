/**
 * The spec's "normal example": an actor returns a tensor; it is copied into the CPU object
 * store, then consumed by a second actor and fetched by the driver with `get`.
 * Run: node examples/dist/object-store/main.js
 */
import { get, init, objectStoreStats, shutdown, spawn } from '@tensorwire/core';
import { MyActor } from './actors';

async function main(): Promise<void> {
  await init();
  const producer = await spawn(MyActor, { name: 'producer' });
  const consumer = await spawn(MyActor, { name: 'consumer' });

  const ref = producer.randomTensor.remote();
  const total = await get(consumer.sum.remote(ref));
  console.log(`consumer.sum(ref) = ${total.toFixed(3)} (the tensor went producer -> object store -> consumer)`);

  const tensor = await get(ref);
  console.log(`get(ref) -> ${tensor.dtype} tensor of shape [${tensor.shape}], sum ${tensor.sum().toFixed(3)}`);
  const stats = objectStoreStats();
  console.log(`object store holds ${stats.objects} object(s), ${(stats.bytes / 2 ** 20).toFixed(1)} MiB`);
  await shutdown();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
