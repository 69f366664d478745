/**
 * Stream: a CUDA stream of this package, for ordering copies (`tensor.toAsync(device, { stream })`)
 * and for the internal API. Each stream is served by a thread of its own: work on two streams may
 * overlap, work on one runs in the order it was submitted.
 */
import { InvalidArgumentError, type DeviceStream } from '@tensorwire/core';
import { fromNative } from './errors';
import { requireDriver } from './driver';
import type { NativeStream } from './native';

/** 'cuda:1', 'cuda' or 1 as a device index. */
export function deviceIndexOf(device: number | string, what: string): number {
  if (typeof device === 'number' && Number.isInteger(device) && device >= 0) return device;
  if (typeof device === 'string') {
    const m = /^cuda(?::(\d+))?$/.exec(device);
    if (m) return m[1] === undefined ? 0 : Number(m[1]);
  }
  throw new InvalidArgumentError(`${what}: expected a CUDA device ('cuda:0', 'cuda' or an index), got ${JSON.stringify(device)}`);
}

const natives = new WeakMap<Stream, NativeStream>();

/**
 * A CUDA stream on one device.
 *
 * @example
 * ```ts
 * import { Stream } from '@tensorwire/cuda';
 * const s = new Stream('cuda:0');
 * const [a, b] = await Promise.all([x.toAsync('cuda:0', { stream: s }), y.toAsync('cuda:0')]); // may overlap
 * s.destroy();
 * ```
 */
export class Stream implements DeviceStream {
  readonly deviceIndex: number;

  constructor(device: number | string = 0) {
    this.deviceIndex = deviceIndexOf(device, 'new Stream()');
    const binding = requireDriver();
    try {
      natives.set(this, new binding.Stream(this.deviceIndex));
    } catch (err) {
      throw fromNative(err, `new Stream(cuda:${this.deviceIndex})`);
    }
  }

  /** 'cuda:N'. */
  get device(): string {
    return `cuda:${this.deviceIndex}`;
  }

  /** The CUstream as a bigint, for another library in this process to queue work on. */
  get handle(): bigint {
    return nativeStreamOf(this).handle;
  }

  /** True after destroy(). */
  get destroyed(): boolean {
    return nativeStreamOf(this).destroyed;
  }

  /** Resolves when everything submitted to this stream before the call has run. */
  async synchronize(): Promise<void> {
    try {
      await nativeStreamOf(this).synchronize();
    } catch (err) {
      throw fromNative(err, `synchronizing a stream of ${this.device}`);
    }
  }

  /** No more work; the CUDA stream goes once the work already submitted has run. Idempotent. */
  destroy(): void {
    nativeStreamOf(this).destroy();
  }
}

/** The addon's stream behind a Stream (for this package's internals). */
export function nativeStreamOf(stream: Stream): NativeStream {
  const n = natives.get(stream);
  if (!n) throw new InvalidArgumentError('expected a Stream made by @tensorwire/cuda (new Stream(device))');
  return n;
}

/** The addon's stream for an optional DeviceStream from core's options. */
export function nativeStreamFor(stream: DeviceStream | undefined, what: string): NativeStream | undefined {
  if (stream === undefined) return undefined;
  if (!(stream instanceof Stream)) {
    throw new InvalidArgumentError(`${what}: options.stream must be a Stream from @tensorwire/cuda (new Stream(device)), got ${String(stream)}`);
  }
  return nativeStreamOf(stream);
}
