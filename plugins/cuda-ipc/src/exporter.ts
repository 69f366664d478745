/**
 * The producer side: registrations of CUDA tensors for other processes to read.
 *
 * Per tensor: the allocation holding it (`allocationOf`: the caching allocator cuts tensors out
 * of larger segments, so a region is the allocation's IPC handle plus an offset), and a hold on
 * its block (`holdBuffer`) so that neither a `release()` nor garbage collection hands the memory
 * to another tensor before `release`. Per allocation, one IPC handle, cached while a
 * registration holds a block of it (an allocation with no live block may be freed, and its
 * address reused by another allocation with another handle). Per device, one interprocess event,
 * recorded again at each registration after the work submitted to the device's default stream,
 * so a consumer's copy waits for the producer's work on the GPU, not on a host thread.
 */
import type { TransportTensor } from '@tensorwire/core';
import { allocationOf, deviceIdentity, Event, holdBuffer, ipcMemHandle } from '@tensorwire/cuda/internal';
import type { CudaIpcDescriptor, CudaIpcDeviceDescriptor, CudaIpcRegionDescriptor } from './descriptor';
import { CudaIpcError, toCudaIpcError } from './errors';
import { selfIdentity } from './host-identity';
import { RegistrationTable } from './registration-table';

/** The CUDA device index of a transport tensor, or an INVALID error for any other device. */
export function cudaIndexOf(t: TransportTensor, what: string): number {
  const m = /^cuda:(\d+)$/.exec(t.device);
  if (!m || t.devicePtr === undefined) {
    throw new CudaIpcError(
      'CUDA_IPC_UNSUPPORTED_DEVICE',
      `cuda-ipc: ${what} is on '${t.device}'; cuda-ipc moves CUDA tensors only. ` +
        'Fix: move it to the GPU (tensor.cuda(), or await tensor.cudaAsync()), or use a transport for CPU tensors (nixl, gloo)',
    );
  }
  return Number(m[1]);
}

/** An allocation exported while registrations hold blocks of it. */
interface Export {
  readonly handle: string;
  refs: number;
}

/** What a live registration holds. */
interface Registration {
  readonly tensors: readonly TransportTensor[];
  readonly unholds: (() => void)[];
  readonly exports: string[];
  readonly slot: number;
}

export class Exporter {
  private readonly table = new RegistrationTable();
  private readonly exports = new Map<string, Export>();
  /** Per device: the interprocess event, and its IPC handle (base64) as descriptors carry it. */
  private readonly events = new Map<number, { event: Event; handle: string }>();
  private readonly live = new Map<string, Registration>();
  private nextId = 1;

  constructor(private readonly name: string) {}

  async register(tensors: readonly TransportTensor[]): Promise<CudaIpcDescriptor> {
    const devices: number[] = [];
    const regions: CudaIpcRegionDescriptor[] = [];
    const unholds: (() => void)[] = [];
    const exported: string[] = [];
    const undo = () => {
      for (const u of unholds) u();
      for (const key of exported) this.unexport(key);
    };
    try {
      for (const [i, t] of tensors.entries()) {
        const device = cudaIndexOf(t, `tensor ${i}`);
        if (t.nbytes === 0) {
          regions.push({ device: -1, handle: '', size: 0, offset: 0, nbytes: 0 });
          continue;
        }
        const range = allocationOf({ deviceIndex: device, devicePtr: t.devicePtr! });
        if (range.offset + t.nbytes > range.size) {
          throw new CudaIpcError('CUDA_IPC_SIZE_MISMATCH', `cuda-ipc: tensor ${i} (${t.nbytes} bytes at offset ${range.offset}) runs past its allocation of ${range.size} bytes`);
        }
        if (t.deviceBuffer) unholds.push(holdBuffer(t.deviceBuffer));
        const key = `${device}:${range.base}`;
        const handle = this.export(key, device, range.base);
        exported.push(key);
        let d = devices.indexOf(device);
        if (d < 0) d = devices.push(device) - 1;
        regions.push({ device: d, handle, size: range.size, offset: range.offset, nbytes: t.nbytes });
      }
      // After the work submitted to each device so far (what made the tensors): resolved once the
      // record has reached the driver, so a consumer that opens the event waits for that work.
      const deviceDescriptors: CudaIpcDeviceDescriptor[] = await Promise.all(
        devices.map(async (device) => {
          const { event, handle } = this.eventOf(device);
          await event.record();
          return { id: deviceIdentity(device), event: handle };
        }),
      );
      const slot = this.table.add();
      const id = `${this.name}:${process.pid}:${this.nextId++}`;
      const descriptor: CudaIpcDescriptor = {
        transport: 'cuda-ipc', version: 1, id, name: this.name, producer: selfIdentity(), table: slot, devices: deviceDescriptors, regions,
      };
      this.live.set(id, { tensors: [...tensors], unholds, exports: exported, slot: slot.slot });
      return descriptor;
    } catch (e) {
      undo(); // all or nothing
      throw toCudaIpcError(e, 'register');
    }
  }

  /** Drops registration `id`: reads of it fail from now on, its memory may be reused. Idempotent. */
  release(id: string): void {
    const r = this.live.get(id);
    if (!r) return;
    this.live.delete(id);
    this.table.remove(r.slot);
    for (const u of r.unholds) u();
    for (const key of r.exports) this.unexport(key);
  }

  /** The tensors of live registration `id` (a read in this very process, which cannot open its own IPC handles). */
  localTensors(id: string): readonly TransportTensor[] | undefined {
    return this.live.get(id)?.tensors;
  }

  /** Live registrations, exported allocations, events. */
  stats(): { registrations: number; exportedAllocations: number; events: number } {
    return { registrations: this.live.size, exportedAllocations: this.exports.size, events: this.events.size };
  }

  close(): void {
    for (const id of [...this.live.keys()]) this.release(id);
    for (const e of this.events.values()) e.event.destroy();
    this.events.clear();
    this.table.close();
  }

  private export(key: string, device: number, base: bigint): string {
    let e = this.exports.get(key);
    if (!e) {
      e = { handle: ipcMemHandle(device, base).toString('base64'), refs: 0 };
      this.exports.set(key, e);
    }
    e.refs++;
    return e.handle;
  }

  private unexport(key: string): void {
    const e = this.exports.get(key);
    if (e && --e.refs === 0) this.exports.delete(key);
  }

  private eventOf(device: number): { event: Event; handle: string } {
    let e = this.events.get(device);
    if (!e) {
      const event = new Event(device, { interprocess: true });
      e = { event, handle: event.ipcHandle().toString('base64') };
      this.events.set(device, e);
    }
    return e;
  }
}
