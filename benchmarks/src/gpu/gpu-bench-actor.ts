/**
 * The actor the GPU section moves CUDA tensors between. Its module imports @tensorwire/cuda, so
 * the 'cuda' device backend is registered in every actor process that hosts it.
 */
import '@tensorwire/cuda';
import { actor, Tensor } from '@tensorwire/core';
import type { Measurement } from '../harness/stats';
import { hostDeviceCopies } from './device-copies';

@actor()
export class GpuBenchActor {
  private cuda: Tensor | null = null;
  private host: Tensor | null = null;

  /** Make the tensors the give methods return (outside the timed part). */
  async prepare(nbytes: number): Promise<number> {
    this.cuda?.release();
    const data = new Uint8Array(nbytes);
    for (let i = 0; i < nbytes; i += 4096) data[i] = (i * 2654435761) & 0xff;
    this.host = new Tensor(data, [nbytes], { dtype: 'uint8' });
    this.cuda = await this.host.toAsync('cuda:0');
    return nbytes;
  }

  /** The CUDA tensor (a GPU object when called with a tensorTransport). */
  give(): Tensor {
    if (!this.cuda) throw new Error('call prepare(nbytes) first');
    return this.cuda;
  }

  /** The same bytes as a CPU tensor (through the object store without a tensorTransport). */
  giveHost(): Tensor {
    if (!this.host) throw new Error('call prepare(nbytes) first');
    return this.host;
  }

  consume(t: Tensor): number {
    return t.nbytes;
  }

  /** Host<->device copies measured inside this actor (compare with the same in a plain process). */
  hostDevice(sizes: number[]): Promise<Measurement[]> {
    return hostDeviceCopies(sizes, 'inside an actor');
  }
}
