/**
 * The spec's NCCL section, step by step, in TypeScript: the Gloo walkthrough with CUDA tensors
 * moved by NCCL. Two actors share one GPU (numGpus: 0.5 each), so one GPU is enough.
 *
 * Run on a machine with an NVIDIA GPU and NCCL (PyTorch's is found in its Python environment,
 * or set TENSORWIRE_LIBNCCL=<site-packages>/nvidia/nccl/lib/libnccl.so.2):
 *   node examples/dist/nccl-walkthrough/main.js
 * Elsewhere it stops at step 0 with NcclUnavailableError, saying what is missing and the fix.
 * On the mocks (the code paths, not a GPU):
 *   TENSORWIRE_LIBCUDA=$(node -p "require('@tensorwire/cuda/testing').mockLibraryPath") \
 *   TENSORWIRE_LIBNCCL=$(node -p "require('@tensorwire/nccl/testing').mockLibraryPath") \
 *   node examples/dist/nccl-walkthrough/main.js
 */
import { createCollectiveGroup, destroyCollectiveGroup, get, getCollectiveGroups, init, shutdown, spawn, TensorwireError } from '@tensorwire/core';
import { openNccl } from '@tensorwire/nccl';
import { MyActor } from './actors';

const step = (n: number, title: string): void => console.log(`\n[${n}] ${title}`);

async function main(): Promise<void> {
  step(0, 'NCCL and a GPU here? (NcclUnavailableError says what is missing and the fix)');
  const nccl = openNccl();
  console.log(`    NCCL ${nccl.version} from ${nccl.libraryPath}${nccl.mock ? ' (the mock: it proves the code paths, not a GPU)' : ''}`);
  await init();

  step(1, 'Create two actors on one GPU whose randomTensor() uses tensorTransport: "nccl"');
  const sender = await spawn(MyActor, { name: 'sender', numGpus: 0.5 });
  const receiver = await spawn(MyActor, { name: 'receiver', numGpus: 0.5 });
  console.log(`    spawned ${sender.actorName} and ${receiver.actorName}`);

  step(2, 'Create a collective group of both actors with backend "nccl"');
  const group = await createCollectiveGroup([sender, receiver], { backend: 'nccl' });
  console.log(`    group '${group.name}' (backend ${group.backend}): sender rank ${group.rankOf(sender)}, receiver rank ${group.rankOf(receiver)}`);

  step(3, 'Pass the GPU object to another actor: the tensor moves GPU to GPU over NCCL');
  const tensor = sender.randomTensor.remote();
  const there = await get(receiver.sum.remote(tensor));
  console.log(`    receiver.sum(tensor) = ${there.sum.toFixed(4)} (the tensor arrived on ${there.device})`);

  step(4, 'Pass the GPU object back to the actor that produced it: the same tensor, no copy');
  const here = await get(sender.sum.remote(tensor));
  console.log(`    sender.sum(tensor) = ${here.sum.toFixed(4)}`);

  step(5, "NCCL's collectives inside the actors: allreduce over the group");
  console.log(`    sender.total(1) + receiver.total(2) -> ${(await get([sender.total.remote(1), receiver.total.remote(2)])).join(', ')}`);

  step(6, 'get(): a CPU copy through the object store');
  const copy = await get(tensor);
  console.log(`    get(tensor) -> ${copy.dtype} tensor on ${copy.device} of shape [${copy.shape}], sum ${copy.sum().toFixed(4)}`);

  step(7, 'Destroy the collective group: the actors stay usable and can join new groups');
  await destroyCollectiveGroup(group);
  console.log(`    groups of sender and receiver now: ${getCollectiveGroups([sender, receiver]).length}`);
  const again = await createCollectiveGroup([receiver, sender], { backend: 'nccl' });
  const back = await get(sender.sum.remote(receiver.randomTensor.remote()));
  console.log(`    a new group '${again.name}' with the ranks swapped moved a tensor receiver -> sender: sum ${back.sum.toFixed(4)}`);

  await shutdown();
  console.log('\ndone');
}

main().catch(async (err) => {
  await shutdown().catch(() => {});
  if (err instanceof TensorwireError) console.error(`\n${err.name} [${err.code}]: ${err.message}`);
  else console.error(err);
  process.exit(1);
});
