/**
 * Messages between the driver and actor processes. Values travel as EncodedValues (serialized
 * once, forwarded as they are); refs inside call arguments travel resolved (see ResolvedRef).
 */
import type { EncodedValue } from '../objects/encoded-value';
import type { WireError } from '../errors/wire-error';
import type { ActorInfo } from '../actor/actor-info';
import type { DType } from '../tensor/dtypes';

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

/** driver -> actor: run a method. */
export interface CallMessage {
  taskId: string;
  method: string;
  args: EncodedValue;
  resolved: Record<string, ResolvedRef>;
  /** Per-call transport override. */
  tensorTransport?: string;
}

/** actor -> driver: the outcome of a call. */
export interface ResultMessage {
  taskId: string;
  value?: EncodedValue;
  gpu?: {
    skeleton: EncodedValue;
    metas: TensorMeta[];
    transport: string;
    descriptor?: unknown;
    /** small objects: a copy of the tensors, so consumers need no transfer round trip */
    inline?: EncodedValue;
  };
  error?: WireError;
  /** true when the failure came from tensorwire itself (e.g. a transfer), not user code */
  system?: boolean;
  /** refs whose one-sided reads this call finished (so the producer may free them) */
  readsDone?: string[];
  /** refs inside the value (or a GPU object's skeleton): the driver keeps them alive with it */
  refIds?: string[];
}

/** driver -> actor at start-up (reply to 'hello'). */
export interface ActorSpec {
  actorId: string;
  name: string;
  className: string;
  module: string;
  args: EncodedValue;
  resolved: Record<string, ResolvedRef>;
  transports: { name: string; module: string }[];
  transportOptions: Record<string, Record<string, unknown>>;
  maxConcurrency: number;
  defaultTimeoutMs: number;
  /** GPU objects whose tensors total at most this many bytes also carry a copy inline. */
  inlineGpuObjectBytes: number;
  /** Largest frame the driver accepts and sends (RuntimeOptions.maxFrameBytes): the actor holds to it too. */
  maxFrameBytes: number;
}

/** actor -> driver: submit a call from inside an actor. */
export interface SubmitMessage {
  objectId: string;
  target: ActorInfo;
  method: string;
  args: EncodedValue;
  refIds: string[];
  options: { tensorTransport?: string };
}

/** Stats an actor reports about its GPU-object state (tests and `actorStats`). */
export interface ActorStats {
  pid: number;
  /** GPU objects this actor produced and still holds. */
  gpuObjects: number;
  /** Distinct tensors held for those objects. */
  tensors: number;
  /** Received tensor copies currently held for running calls. */
  receivedCopies: number;
  /** Sends in flight. */
  pendingTransfers: number;
  /** Collective groups this actor is in. */
  groups: string[];
}
