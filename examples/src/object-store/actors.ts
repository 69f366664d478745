import { actor, Tensor } from '@tensorwire/core';

/** The spec's first actor: its result goes through the CPU object store. */
@actor()
export class MyActor {
  randomTensor(): Tensor {
    return Tensor.randn([1000, 1000]);
  }

  sum(tensor: Tensor): number {
    return tensor.sum();
  }
}
