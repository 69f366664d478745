/**
 * The spec's Gloo walkthrough, step by step, in TypeScript:
 * a GPU object over Gloo, a collective group, passing the ref to another actor, passing it
 * back to its producer, `get`, and destroying the group.
 * Run: npm run example   (or: node examples/dist/gloo-walkthrough/main.js)
 */
import {
  actorStats, createCollectiveGroup, destroyCollectiveGroup, get, getCollectiveGroups, init, shutdown, spawn,
} from '@tensorwire/core';
import { MyActor } from './actors';

const step = (n: number, title: string): void => console.log(`\n[${n}] ${title}`);

async function main(): Promise<void> {
  await init();

  step(1, 'Create two actors whose randomTensor() uses tensorTransport: "gloo"');
  const sender = await spawn(MyActor, { name: 'sender' });
  const receiver = await spawn(MyActor, { name: 'receiver' });
  console.log(`    spawned ${sender.actorName} and ${receiver.actorName}`);

  step(2, 'Create a collective group of both actors');
  const group = await createCollectiveGroup([sender, receiver], { backend: 'gloo' });
  console.log(`    group '${group.name}' (backend ${group.backend}): sender rank ${group.rankOf(sender)}, receiver rank ${group.rankOf(receiver)}`);

  step(3, 'Pass the GPU object to another actor: the tensor moves sender -> receiver over Gloo');
  const tensor = sender.randomTensor.remote();
  const tensorSum = receiver.sum.remote(tensor);
  console.log(`    receiver.sum(tensor) = ${(await get(tensorSum)).toFixed(4)}`);
  const s = await actorStats(sender);
  console.log(`    the sender still holds the tensor itself: ${s.gpuObjects} GPU object(s), ${s.tensors} tensor(s)`);

  step(4, 'Pass the GPU object back to the actor that produced it: the same tensor, no copy');
  const [senderSum, receiverSum] = await get([sender.sum.remote(tensor), receiver.sum.remote(tensor)]);
  console.log(`    sender.sum(tensor) = ${senderSum.toFixed(4)}, receiver.sum(tensor) = ${receiverSum.toFixed(4)}`);
  const mutated = await get(sender.addOne.remote(tensor));
  console.log(`    sender.addOne(tensor) mutates it in place: sum is now ${mutated.toFixed(4)}`);
  console.log(`    sender.sum(tensor) sees the change (GPU objects are mutable): ${(await get(sender.sum.remote(tensor))).toFixed(4)}`);

  step(5, 'get(): a CPU copy through the object store');
  const copy = await get(tensor);
  console.log(`    get(tensor) -> ${copy.dtype} tensor of shape [${copy.shape}], sum ${copy.sum().toFixed(4)}`);

  step(6, 'Destroy the collective group: the actors stay usable and can join new groups');
  await destroyCollectiveGroup(group);
  console.log(`    groups of sender and receiver now: ${getCollectiveGroups([sender, receiver]).length}`);
  const again = await createCollectiveGroup([receiver, sender], { backend: 'gloo' });
  const back = await get(sender.sum.remote(receiver.randomTensor.remote()));
  console.log(`    a new group '${again.name}' with the ranks swapped moved a tensor receiver -> sender: sum ${back.toFixed(4)}`);

  await shutdown();
  console.log('\ndone');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
