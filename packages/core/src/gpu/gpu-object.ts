/**
 * The GPU-object data model: what the driver knows of an object whose tensors stay in their
 * producer (GpuObjectInfo), what a producer reports when it makes one (GpuResult), and how a
 * consumer is told to obtain an object's value (ResolvedRef). Plain data: it travels between
 * the driver and actor processes.
 */
import type { WireError } from '../errors/wire-error';
import type { EncodedValue } from '../objects/encoded-value';
import type { DType } from '../tensor/dtypes';
import type { Tensor } from '../tensor/tensor';

/** Shape and type of one tensor of a GPU object: what a receiver allocates. */
export interface TensorMeta {
  dtype: DType;
  shape: number[];
  device: string;
  nbytes: number;
}

/** Where a GPU object's tensors live and how to reach them. */
export interface GpuObjectInfo {
  objectId: string;
  transport: string;
  producerId: string;
  producerName: string;
  /** The result with every tensor replaced by a placeholder. */
  skeleton: EncodedValue;
  metas: TensorMeta[];
  /** One-sided transports: the producer's registration descriptor. */
  descriptor?: unknown;
  /** The group the producing call or method named (`collectiveGroup`), for two-sided transfers. */
  collectiveGroup?: string;
}

/** How a consumer obtains the value of a ref it was given. */
export type ResolvedRef =
  | { k: 'value'; value: EncodedValue }
  | { k: 'error'; error: WireError }
  /** the consumer is the producer: take the very same tensors from the local store */
  | { k: 'gpu-local'; gpu: GpuObjectInfo }
  /** tensors fetched through the object store (a CPU copy) */
  | { k: 'gpu-data'; gpu: GpuObjectInfo; tensors: EncodedValue }
  /** two-sided transport: receive from the producer's rank in a group, with a unique tag */
  | { k: 'gpu-recv'; gpu: GpuObjectInfo; group: string; srcRank: number; tag: number; timeoutMs: number }
  /** one-sided transport: read from the producer's registered memory */
  | { k: 'gpu-read'; gpu: GpuObjectInfo; timeoutMs: number };

/** What a producer reports to the driver when a result (or a put) becomes a GPU object. */
export interface GpuResult {
  /** The value with every tensor replaced by a placeholder. */
  skeleton: EncodedValue;
  metas: TensorMeta[];
  transport: string;
  /** One-sided transports: the registration descriptor. */
  descriptor?: unknown;
  /** small objects: a copy of the tensors, so consumers need no transfer round trip */
  inline?: EncodedValue;
  /** The group the producing call or method (or put) named for later transfers. */
  collectiveGroup?: string;
}

/** The metas of `tensors`: what a receiver needs to allocate them. */
export function tensorMetas(tensors: readonly Tensor[]): TensorMeta[] {
  return tensors.map((t) => ({ dtype: t.dtype, shape: [...t.shape], device: t.device, nbytes: t.nbytes }));
}

/** The driver's record of a GPU object made by actor `producerId` from what it reported. */
export function gpuObjectInfo(objectId: string, r: GpuResult, producerId: string, producerName: string): GpuObjectInfo {
  const info: GpuObjectInfo = { objectId, transport: r.transport, producerId, producerName, skeleton: r.skeleton, metas: r.metas, descriptor: r.descriptor };
  if (r.collectiveGroup) info.collectiveGroup = r.collectiveGroup;
  return info;
}

/**
 * What a `get` asks of the driver (from the driver's own API or an actor's): GetOptions less
 * the `into` tensors, which never leave the caller. `intoMetas` (their dtypes and shapes) lets
 * the driver refuse a mismatch before any transfer starts; `overGroup` asks for a two-sided
 * object over a group the calling actor shares with the producer.
 */
export interface GetRequest {
  timeoutMs?: number;
  tensorTransport?: string;
  collectiveGroup?: string;
  overGroup?: boolean;
  intoMetas?: { dtype: DType; shape: readonly number[] }[];
}
