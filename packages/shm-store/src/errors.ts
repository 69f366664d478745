import { TensorwireError } from '@tensorwire/core/spi';

/** The shared-memory object store cannot work in this process (addon not built, no /dev/shm). */
export class ShmStoreUnavailableError extends TensorwireError {
  constructor(detail: string) {
    super(
      'SHM_STORE_UNAVAILABLE',
      `the shared-memory object store is unavailable: ${detail}. Fix: build it (npm run build:native in packages/shm-store, ` +
        `needs cmake and g++), or turn it off with init({ objectStore: 'memory' }) / TENSORWIRE_OBJECT_STORE=memory`,
    );
  }
}

/** A placed value cannot be read (its arena file is gone or corrupt). */
export class ShmReadError extends TensorwireError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SHM_READ', message, options);
  }
}
