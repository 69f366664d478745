/**
 * The actor of the NCCL walkthrough, in a module of its own: each actor process imports this
 * module to get the class, so it loads the nccl transport (and CUDA) in every actor too.
 */
import { actor, allreduce, method, Tensor } from '@tensorwire/core';
import '@tensorwire/nccl'; // registers the 'nccl' transport and the 'cuda' device backend

/** The spec's NCCL actor: `randomTensor` returns a GPU object made on the GPU and kept there. */
@actor
export class MyActor {
  @method({ tensorTransport: 'nccl' })
  randomTensor(): Tensor {
    return Tensor.randn([1000, 1000]).cuda(); // the spec: "the tensor is created on the GPU using .cuda()"
  }

  /** Where the tensor arrived and its sum (reading values copies the tensor to the host). */
  sum(tensor: Tensor): { device: string; sum: number } {
    return { device: tensor.device, sum: tensor.sum() };
  }

  /** NCCL's collectives inside actors: every member sums `value` over the group, on the GPU. */
  async total(value: number): Promise<number> {
    const t = Tensor.full([4], value, { device: 'cuda:0' });
    await allreduce(t);
    return (await t.cpuAsync()).at(0) as number;
  }
}
