/** Actor classes of this package's runtime tests: each actor process imports this module, so it loads the nccl transport (and CUDA) too. */
import { actor, allreduce, barrier, broadcast, method, Tensor } from '@tensorwire/core';
import '../index';

@actor()
export class NcclWorker {
  /** A GPU object: a CUDA tensor kept by this actor until a consumer receives it over NCCL. */
  @method({ tensorTransport: 'nccl' })
  make(n: number): Tensor {
    return Tensor.arange(n, undefined, 1, { dtype: 'float32', device: 'cuda:0' });
  }

  /** Several CUDA tensors beside CPU data in one GPU object. */
  @method({ tensorTransport: 'nccl' })
  makeMany(n: number): { ints: Tensor; halves: Tensor; note: string } {
    return {
      ints: Tensor.arange(n, undefined, 1, { dtype: 'int64', device: 'cuda:0' }),
      halves: Tensor.full([n], 0.5, { dtype: 'float16', device: 'cuda:0' }),
      note: `made by ${process.pid}`,
    };
  }

  /** Where a tensor argument arrived, and its sum (copied to the host). */
  sum(t: Tensor): { device: string; sum: number } {
    return { device: t.device, sum: t.sum() };
  }

  sumMany(x: { ints: Tensor; halves: Tensor; note: string }): { devices: string[]; ints: number; halves: number; note: string } {
    return { devices: [x.ints.device, x.halves.device], ints: x.ints.sum(), halves: x.halves.sum(), note: x.note };
  }

  /** allreduce of `values` (on the GPU) with the group's other members. */
  async reduce(values: number[], op: 'sum' | 'min' | 'max' | 'prod'): Promise<number[]> {
    const t = new Tensor(Float32Array.from(values), [values.length], { device: 'cuda:0' });
    await allreduce(t, { op });
    return (await t.cpuAsync()).toArray() as number[];
  }

  async bcast(values: number[], root: number): Promise<number[]> {
    const t = new Tensor(Float32Array.from(values), [values.length], { device: 'cuda:0' });
    await broadcast(t, root);
    return (await t.cpuAsync()).toArray() as number[];
  }

  async meet(): Promise<number> {
    await barrier();
    return process.pid;
  }
}
