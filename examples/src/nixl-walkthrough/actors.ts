import { actor, emptyRegistered, method, put, Tensor, type ObjectRef } from '@tensorwire/core';
import '@tensorwire/nixl'; // registers the one-sided 'nixl' transport

/** The spec's NIXL actor: no collective group needed. */
@actor()
export class MyActor {
  @method({ tensorTransport: 'nixl' })
  randomTensor(): Tensor {
    return Tensor.randn([1000, 1000]);
  }

  sum(tensor: Tensor): number {
    return tensor.sum();
  }

  /** A tensor in NIXL's registered memory pool: readers copy it one-sidedly. */
  @method({ tensorTransport: 'nixl' })
  async pooled(): Promise<Tensor> {
    const t = await emptyRegistered([512, 512], { dtype: 'float32' });
    (t.data as Float32Array).fill(0.5);
    return t;
  }

  /** A GPU object made with put() inside the actor: readers take it straight from here. */
  putWeights(): ObjectRef<{ w: Tensor; step: number }> {
    return put({ w: Tensor.ones([256, 256]), step: 7 }, { tensorTransport: 'nixl' });
  }
}
