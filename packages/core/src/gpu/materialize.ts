/**
 * Turns a ResolvedRef into the value a consumer sees: decodes object-store values, takes the
 * producer's own tensors for intra-actor use, or receives / reads the tensors over the
 * transport into freshly allocated ones. Used by actor processes (call arguments, `get`) and by
 * the driver (`get`).
 */
import { TransferError } from '../errors/errors';
import { withTimeout } from './deadline';
import { fromWireError } from '../errors/wire-error';
import { extractTensors, restoreTensors } from '../objects/codec';
import { checkInto, copyInto, intoMetas } from './into';
import type { Serializer, SerializerHooks } from '../objects/serializer';
import type { GpuObjectInfo, ResolvedRef, TensorMeta } from './gpu-object';
import { Tensor } from '../tensor/tensor';
import type { CollectiveGroup, OneSidedEndpoint, TransportEndpoint } from '../transport/spi';
import { transportErrorKind } from '../transport/transport-error';
import { asOneSided } from './transfer-mode';
import { receiveDevices } from './receive-device';
import { readObject } from './registrations';
import type { ReceivePool } from './receive-pool';
import { readStoreValue } from './placed-value';

export interface MaterializeDeps {
  readonly serializer: Serializer;
  /** How refs and actor handles inside values are revived (as ObjectRefs and handles). */
  readonly decodeHooks: SerializerHooks;
  /** Name of this process (for error messages). */
  readonly selfName: string;
  /** The producer's own tensors (actor processes only). */
  localTensors(objectId: string): Tensor[] | undefined;
  group(name: string): CollectiveGroup | undefined;
  endpoint(transport: string): Promise<TransportEndpoint>;
  /** A transfer in a collective group failed: the group is unusable (Gloo poisons it). */
  groupFailed?(group: string, reason: string): void;
}

export interface Materialized {
  value: unknown;
  /** Tensors received for this use (dropped after the call). */
  received: Tensor[];
  /** one-sided read done (the driver may then free the producer's registration) */
  read: boolean;
}

/**
 * Allocate receive tensors on `devices` (see receive-device.ts); CPU ones from the transport's
 * registered pool when it has one. With `lend` (a call's arguments), CPU memory is taken from
 * that receive pool, whose buffers come back when the call ends (borrowed-args.ts).
 */
function allocate(metas: TensorMeta[], devices: readonly string[], endpoint?: OneSidedEndpoint, lend?: ReceivePool): Tensor[] {
  return metas.map((m, i) => {
    const device = devices[i];
    if (device === 'cpu' && m.nbytes > 0 && lend) {
      return Tensor.fromBytes(lend.take(m.nbytes, endpoint), m.dtype, m.shape);
    }
    if (device === 'cpu' && endpoint?.allocate && m.nbytes > 0) {
      return Tensor.fromBytes(endpoint.allocate(m.nbytes), m.dtype, m.shape);
    }
    return Tensor.empty(m.shape, m.dtype, { device });
  });
}

function describe(gpu: GpuObjectInfo, selfName: string): Record<string, unknown> {
  return { objectId: gpu.objectId, transport: gpu.transport, producer: gpu.producerName, consumer: selfName };
}

function transferError(gpu: GpuObjectInfo, selfName: string, err: unknown): TransferError {
  const cause = err instanceof Error ? err : new Error(String(err));
  return new TransferError(
    `transfer of object ${gpu.objectId} from actor ${gpu.producerName} to ${selfName} over ${gpu.transport} failed: ${cause.message}`,
    { ...describe(gpu, selfName), code: (cause as { code?: string }).code, kind: transportErrorKind(cause) },
    { cause },
  );
}

/**
 * The value of `r` for this process. With `into` (`get(ref, { into })`), the object's tensors
 * land in those tensors: received or read straight into them, or copied in on the paths that
 * bring a copy anyway; the value is then made of them, and nothing is allocated for tensors.
 * With `lend` (a call's arguments), received CPU tensors take their memory from that pool.
 */
export async function materialize(r: ResolvedRef, deps: MaterializeDeps, into?: Tensor[], lend?: ReceivePool): Promise<Materialized> {
  const hooks = deps.decodeHooks;
  const skeletonOf = (gpu: GpuObjectInfo): unknown => deps.serializer.decode(gpu.skeleton, hooks);
  if (into && r.k !== 'error' && r.k !== 'value') checkInto(r.gpu.objectId, r.gpu.metas, intoMetas(into));
  /** The copy paths: `tensors` copied into `into` (when given), which then make the value. */
  const filled = async (gpu: GpuObjectInfo, tensors: Tensor[], received: Tensor[]): Promise<Materialized> => {
    if (!into) return { value: restoreTensors(skeletonOf(gpu), tensors), received, read: false };
    await copyInto(tensors, into);
    return { value: restoreTensors(skeletonOf(gpu), into), received: [], read: false };
  };
  switch (r.k) {
    case 'value': {
      // Bytes placed in shared memory are copied out here: into the receive pool for a call's arguments.
      const read = await readStoreValue(r.value, into ? undefined : lend);
      const value = deps.serializer.decode(read.encoded, hooks);
      if (!into) return { value, received: read.lentTensors(value), read: false };
      // An ordinary object-store value: its tensors are copied into the given ones.
      const { skeleton, tensors } = extractTensors(value);
      checkInto('(object store value)', tensors, intoMetas(into));
      await copyInto(tensors, into);
      return { value: restoreTensors(skeleton, into), received: [], read: false };
    }
    case 'error':
      throw fromWireError(r.error);
    case 'gpu-local': {
      const tensors = deps.localTensors(r.gpu.objectId);
      if (!tensors) throw new TransferError(`object ${r.gpu.objectId} is no longer held by its producer ${r.gpu.producerName} (freed)`, describe(r.gpu, deps.selfName));
      return filled(r.gpu, tensors, []);
    }
    case 'gpu-data': {
      const tensors = deps.serializer.decode(r.tensors) as Tensor[];
      return filled(r.gpu, tensors, tensors);
    }
    case 'gpu-recv': {
      const group = deps.group(r.group);
      if (!group) {
        throw transferError(r.gpu, deps.selfName, new Error(`this actor is not (or no longer) in collective group '${r.group}'`));
      }
      const dst = into ?? allocate(r.gpu.metas, receiveDevices(r.gpu, deps.selfName), undefined, lend);
      try {
        await withTimeout(group.recv(dst, r.srcRank, r.tag), r.timeoutMs, `recv of ${r.gpu.objectId}`);
      } catch (err) {
        const e = transferError(r.gpu, deps.selfName, err);
        deps.groupFailed?.(r.group, e.message);
        throw e;
      }
      return { value: restoreTensors(skeletonOf(r.gpu), dst), received: into ? [] : dst, read: false };
    }
    case 'gpu-read': {
      // Given tensors are read into as they are (a transport reads into any memory it moves; its
      // registered pool only saves it a bounce): no allocation, and their devices are the caller's.
      const devices = into ? [] : receiveDevices(r.gpu, deps.selfName);
      let dst: Tensor[];
      try {
        const ep = asOneSided(await deps.endpoint(r.gpu.transport), r.gpu.transport);
        dst = into ?? allocate(r.gpu.metas, devices, ep, lend);
        await readObject(ep, r.gpu.descriptor, dst, r.timeoutMs);
      } catch (err) {
        throw transferError(r.gpu, deps.selfName, err);
      }
      return { value: restoreTensors(skeletonOf(r.gpu), dst), received: into ? [] : dst, read: true };
    }
  }
}
