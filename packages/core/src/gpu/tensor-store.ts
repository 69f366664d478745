/**
 * An actor's store of the tensors of the GPU objects it produced. Tensors stay here (no copy)
 * until the object is freed and no send of it is in flight; the same tensor may belong to
 * several objects (counted), which `waitTensorFreed` observes.
 */
import { InvalidArgumentError } from '../errors/errors';
import type { Tensor } from '../tensor/tensor';

interface StoredObject {
  tensors: Tensor[];
  transport: string;
  /** one-sided registration, released when the object is dropped */
  descriptor?: unknown;
  sending: number;
  freeRequested: boolean;
}

export class TensorStore {
  private readonly objects = new Map<string, StoredObject>();
  private readonly holders = new Map<Tensor, number>();
  private readonly freedWaiters = new Map<Tensor, Array<() => void>>();

  constructor(private readonly onDrop: (objectId: string, transport: string, descriptor: unknown) => void) {}

  add(objectId: string, tensors: Tensor[], transport: string, descriptor?: unknown): void {
    this.objects.set(objectId, { tensors, transport, descriptor, sending: 0, freeRequested: false });
    for (const t of new Set(tensors)) this.holders.set(t, (this.holders.get(t) ?? 0) + 1);
  }

  has(objectId: string): boolean {
    return this.objects.has(objectId);
  }

  tensors(objectId: string): Tensor[] | undefined {
    return this.objects.get(objectId)?.tensors;
  }

  /** A held object's tensors, transport and registration (none yet for small inlined ones). */
  held(objectId: string): Readonly<Pick<StoredObject, 'tensors' | 'transport' | 'descriptor'>> | undefined {
    return this.objects.get(objectId);
  }

  /** Record the registration made for a held object after it was stored (registered on demand). */
  setDescriptor(objectId: string, descriptor: unknown): void {
    const o = this.objects.get(objectId);
    if (o) o.descriptor = descriptor;
  }

  /** Marks a send in flight; the object is not dropped before `endSend`. */
  beginSend(objectId: string): Tensor[] | undefined {
    const o = this.objects.get(objectId);
    if (!o) return undefined;
    o.sending++;
    return o.tensors;
  }

  endSend(objectId: string): void {
    const o = this.objects.get(objectId);
    if (!o) return;
    o.sending--;
    if (o.freeRequested && o.sending === 0) this.drop(objectId, o);
  }

  /** Frees the object now, or as soon as its in-flight sends are done. */
  free(objectId: string): void {
    const o = this.objects.get(objectId);
    if (!o) return;
    o.freeRequested = true;
    if (o.sending === 0) this.drop(objectId, o);
  }

  freeAll(): void {
    for (const id of [...this.objects.keys()]) this.free(id);
  }

  /** Resolves when no stored object holds `tensor` (at once if none does). */
  waitFreed(tensor: Tensor, timeoutMs?: number): Promise<void> {
    if (!this.holders.has(tensor)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      const list = this.freedWaiters.get(tensor) ?? [];
      list.push(done);
      this.freedWaiters.set(tensor, list);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const l = this.freedWaiters.get(tensor);
          if (l) l.splice(l.indexOf(done), 1);
          reject(new InvalidArgumentError(`waitTensorFreed: the tensor is still held by a GPU object after ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  stats(): { gpuObjects: number; tensors: number; pendingTransfers: number } {
    let sending = 0;
    for (const o of this.objects.values()) sending += o.sending;
    return { gpuObjects: this.objects.size, tensors: this.holders.size, pendingTransfers: sending };
  }

  private drop(objectId: string, o: StoredObject): void {
    this.objects.delete(objectId);
    for (const t of new Set(o.tensors)) {
      const n = (this.holders.get(t) ?? 1) - 1;
      if (n > 0) {
        this.holders.set(t, n);
        continue;
      }
      this.holders.delete(t);
      const waiters = this.freedWaiters.get(t);
      this.freedWaiters.delete(t);
      waiters?.forEach((w) => w());
    }
    this.onDrop(objectId, o.transport, o.descriptor);
  }
}
