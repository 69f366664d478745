/**
 * The CPU object store: where ordinary results live, serialized once. The default is an
 * in-memory store in the driver; a runtime can inject another implementation (shared memory,
 * spilling to disk...) through the `ObjectStore` DI token.
 */
import 'reflect-metadata';
import { injectable } from 'tsyringe';
import { encodedSize, type EncodedValue } from './encoded-value';

export interface ObjectStoreStats {
  /** Number of values held. */
  objects: number;
  /** Bytes held (skeletons and attachments). */
  bytes: number;
}

export interface ObjectStore {
  put(id: string, value: EncodedValue): void;
  get(id: string): EncodedValue | undefined;
  has(id: string): boolean;
  delete(id: string): boolean;
  stats(): ObjectStoreStats;
  clear(): void;
}

/** Keeps encoded values in the driver's memory; values are stored and forwarded as they came. */
@injectable()
export class MemoryObjectStore implements ObjectStore {
  private readonly values = new Map<string, EncodedValue>();
  private bytes = 0;

  put(id: string, value: EncodedValue): void {
    this.delete(id);
    this.values.set(id, value);
    this.bytes += encodedSize(value);
  }
  get(id: string): EncodedValue | undefined {
    return this.values.get(id);
  }
  has(id: string): boolean {
    return this.values.has(id);
  }
  delete(id: string): boolean {
    const v = this.values.get(id);
    if (!v) return false;
    this.values.delete(id);
    this.bytes -= encodedSize(v);
    return true;
  }
  stats(): ObjectStoreStats {
    return { objects: this.values.size, bytes: this.bytes };
  }
  clear(): void {
    this.values.clear();
    this.bytes = 0;
  }
}
