import { actor, method, Tensor } from '@tensorwire/core';
import '@tensorwire/gloo'; // registers the 'gloo' transport (here and in every actor)

/** The spec's Gloo actor: `randomTensor` returns a GPU object kept in the actor. */
@actor()
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
    return tensor.sum();
  }
}
