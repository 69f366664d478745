/**
 * Messages between the driver and actor processes. Values travel as EncodedValues (serialized
 * once, forwarded as they are); refs inside call arguments travel resolved (see ResolvedRef in
 * gpu/gpu-object.ts, with the rest of the GPU-object data model).
 */
import type { DeviceMemoryStats } from '../tensor/device';
import type { EncodedValue } from '../objects/encoded-value';
import type { WireError } from '../errors/wire-error';
import type { ActorInfo } from './actor-info';
import type { CallOptions } from './context';
import type { GpuResult, ResolvedRef } from '../gpu/gpu-object';

/** driver -> actor: run a method. */
export interface CallMessage {
  taskId: string;
  method: string;
  args: EncodedValue;
  resolved: Record<string, ResolvedRef>;
  /** Per-call transport override. */
  tensorTransport?: string;
  /** Per-call collective group (CallOptions.collectiveGroup): kept with the result's GPU object. */
  collectiveGroup?: string;
  /**
   * GPU objects of this actor the driver freed since its last message here (as `gpu.free`
   * would say): dropped before the call is queued.
   */
  frees?: string[];
}

/** actor -> driver: the outcome of a call. */
export interface ResultMessage {
  taskId: string;
  value?: EncodedValue;
  gpu?: GpuResult;
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
  /**
   * The shared-memory object store (objects/value-placement.ts) the actor loads to place its
   * large results, and the driver's host (a producer on another host does not place). Absent:
   * results travel inline.
   */
  valuePlacement?: { module: string; driverHost: string; runtimeId: string; driverPid: number };
}

/** actor -> driver: submit a call from inside an actor. */
export interface SubmitMessage {
  objectId: string;
  target: ActorInfo;
  method: string;
  args: EncodedValue;
  refIds: string[];
  /** refs passed with keepRef: pinned for the call, not resolved */
  keptIds?: string[];
  options: CallOptions;
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
  /**
   * The receive pool that calls' GPU-object arguments take their CPU memory from: bytes cached
   * for reuse, takes served from it (hits) and takes that allocated (misses).
   */
  receivePool?: { cachedBytes: number; hits: number; misses: number };
  /** Sends in flight. */
  pendingTransfers: number;
  /** Live registrations with one-sided transports (shared by the objects holding their tensors). */
  registrations?: number;
  /** Tensors registered in them: each tensor's memory counts once however many objects hold it. */
  registeredTensors?: number;
  /** Collective groups this actor is in. */
  groups: string[];
  /**
   * Device memory in this actor, per device it used, as its device backend's allocator counts it
   * (a CUDA caching allocator: allocated, reserved, their peaks); [] without a device backend.
   */
  deviceMemory: DeviceMemoryStats[];
  /** The actor process's CUDA_VISIBLE_DEVICES (what spawn's numGpus gave it), if set. */
  cudaVisibleDevices?: string;
}
