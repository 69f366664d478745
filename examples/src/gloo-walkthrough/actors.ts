/**
 * The actor of the Gloo walkthrough, in a module of its own: each actor process imports this
 * module to get the class, so its top-level code runs in the driver and in every actor.
 */
import { actor, isActorProcess, method, Tensor } from '@tensorwire/core';
import '@tensorwire/gloo'; // registers the 'gloo' transport (here and in every actor)

// Top-level code runs in every process that imports this module; isActorProcess() tells which.
// In an actor, what it prints reaches the driver's console as "(MyActor pid=...) ...".
if (isActorProcess()) console.log('actors.ts loaded in an actor process');

/** The spec's Gloo actor: `randomTensor` returns a GPU object kept in the actor. */
@actor
export class MyActor {
  @method({ tensorTransport: 'gloo' })
  randomTensor(): Tensor {
    return Tensor.randn([1000, 1000]);
  }

  sum(tensor: Tensor): number {
    return tensor.sum();
  }

  /** Mutates the tensor in place: the spec's note on mutability. */
  addOne(tensor: Tensor): number {
    tensor.add_(1);
    console.log(`addOne: changed a [${tensor.shape}] tensor in place`);
    return tensor.sum();
  }
}
