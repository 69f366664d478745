/**
 * The process's caching allocator: one DeviceAllocator per device, and the DeviceBuffers handed
 * to core. A buffer's memory returns to its device's cache when the buffer is released
 * (tensor.release()) or garbage-collected (a FinalizationRegistry: every view of a tensor shares
 * one buffer object, so it is collected when the last view is). While an operation still uses a
 * buffer (an async copy), a release waits for it to finish, so a block is never handed to a new
 * tensor while the GPU still reads or writes it.
 */
import { InvalidArgumentError, type DeviceBuffer } from '@tensorwire/core';
import { addressOf, type Block } from './blocks';
import { DeviceAllocator, type AllocatorDriver } from './device-allocator';
import type { CudaMemoryStats } from './memory-stats';

/** A buffer the allocator made (devicePtr 0n for 0 bytes). */
export class CudaBuffer implements DeviceBuffer {
  constructor(readonly devicePtr: bigint, readonly nbytes: number, readonly deviceIndex: number) {}
}

/** What the allocator keeps per live buffer (never the buffer itself: it must stay collectable). */
interface Lease {
  readonly device: number;
  readonly block: Block | undefined;
  /** Operations using the buffer now. */
  inUse: number;
  /** release() was called while in use: give back when the last operation ends. */
  releasing: boolean;
  returned: boolean;
}

export class CachingAllocator {
  private readonly devices = new Map<number, DeviceAllocator>();
  private readonly leases = new WeakMap<DeviceBuffer, Lease>();
  private readonly collected = new FinalizationRegistry<Lease>((lease) => this.giveBack(lease));

  constructor(private readonly driver: () => AllocatorDriver) {}

  /** A buffer of `nbytes` on `device`; contents undefined (a reused block keeps its old bytes). */
  allocate(device: number, nbytes: number): CudaBuffer {
    if (!Number.isSafeInteger(nbytes) || nbytes < 0) {
      throw new InvalidArgumentError(`allocate: nbytes must be a non-negative integer, got ${nbytes}`);
    }
    const block = nbytes === 0 ? undefined : this.deviceAllocator(device).allocate(nbytes);
    const buffer = new CudaBuffer(block ? addressOf(block) : 0n, nbytes, device);
    const lease: Lease = { device, block, inUse: 0, releasing: false, returned: false };
    this.leases.set(buffer, lease);
    this.collected.register(buffer, lease, buffer);
    return buffer;
  }

  /** True for buffers this allocator made and has not given back. */
  owns(buffer: DeviceBuffer): boolean {
    const lease = this.leases.get(buffer);
    return lease !== undefined && !lease.returned;
  }

  /** Returns `buffer`'s block to the cache now, or when the operations using it end. Idempotent. */
  release(buffer: DeviceBuffer): void {
    const lease = this.leases.get(buffer);
    if (!lease || lease.returned) return;
    this.collected.unregister(buffer);
    if (lease.inUse > 0) lease.releasing = true;
    else this.giveBack(lease);
  }

  /** An operation starts using `buffer` (it is not reused until `endUse`). */
  beginUse(buffer: DeviceBuffer): void {
    const lease = this.leases.get(buffer);
    if (lease) lease.inUse++;
  }

  endUse(buffer: DeviceBuffer): void {
    const lease = this.leases.get(buffer);
    if (!lease) return;
    lease.inUse--;
    if (lease.inUse === 0 && lease.releasing) this.giveBack(lease);
  }

  /** Gives cached segments back to the driver, on `device` or on every device used. */
  emptyCache(device?: number): void {
    for (const a of this.selected(device)) a.emptyCache();
  }

  /** Stats of `device`, or of every device used so far. */
  stats(device?: number): CudaMemoryStats[] {
    return this.selected(device).map((a) => a.stats());
  }

  resetPeak(device?: number): void {
    for (const a of this.selected(device)) a.resetPeak();
  }

  /** The allocator of `device` (made on first use). */
  deviceAllocator(device: number): DeviceAllocator {
    let a = this.devices.get(device);
    if (!a) {
      a = new DeviceAllocator(device, this.driver());
      this.devices.set(device, a);
    }
    return a;
  }

  private selected(device: number | undefined): DeviceAllocator[] {
    if (device !== undefined) return [this.deviceAllocator(device)];
    return [...this.devices.values()].sort((a, b) => a.device - b.device);
  }

  private giveBack(lease: Lease): void {
    if (lease.returned) return;
    lease.returned = true;
    if (lease.block) this.devices.get(lease.device)?.free(lease.block);
  }
}
