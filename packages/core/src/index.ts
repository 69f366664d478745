/**
 * @tensorwire/core: actors, ObjectRefs, the CPU object store, GPU objects and the tensor
 * transport SPI. See the package README for a walkthrough.
 */
import 'reflect-metadata';

export * from './transport/spi';
export * from './transport/registry';
export { transportName, type TensorTransports, type TensorTransportName, type CollectiveBackendName } from './transport/transport-names';
export * from './errors/errors';

export { Tensor } from './tensor/tensor';
export type { TensorOptions, RandnOptions, DevicePointerOptions, ToAsyncOptions } from './tensor/tensor';
export * from './tensor/dtypes';
export {
  registerDeviceBackend, getDeviceBackend,
  type DeviceBackend, type DeviceBuffer, type DeviceStream, type DeviceCopyOptions, type DeviceMemoryStats,
  type DeviceInfo, type DeviceProbe,
} from './tensor/device';

export { ObjectRef, isObjectRef } from './objects/object-ref';
export { keepRef, KeptRef } from './objects/kept-ref';
export type { ObjectStore, ObjectStoreStats } from './objects/object-store';
export { MemoryObjectStore } from './objects/object-store';
export type { Serializer, SerializerHooks } from './objects/serializer';
export { OutOfBandSerializer } from './objects/serializer';
export type { EncodedValue } from './objects/encoded-value';
export { encodeValue, decodeValue, extractTensors, restoreTensors } from './objects/codec';

export { actor, method, type ActorOptions, type MethodOptions, type ActorClassDecorator, type ActorMethodDecorator } from './actor/decorators';
export type { ActorHandle, RemoteMethod } from './actor/handle';
export type { MaybeRef, RemoteArgs } from './actor/remote-args';
export type { Launcher, LaunchSpec, LaunchedProcess, Placement } from './driver/launcher';
export { ChildProcessLauncher } from './driver/launcher';

export { TOKENS } from './runtime/tokens';
export type { Logger, Clock } from './log/logger';
export { ConsoleLogger } from './log/logger';
export type { RuntimeOptions, Provider, ObjectStoreKind } from './runtime/options';
export type { CallOptions, GetOptions, PutOptions, WaitOptions } from './runtime/context';
export { isActorProcess } from './runtime/context';
export type { SpawnOptions } from './driver/runtime';
export type { ActorStats } from './runtime/protocol';
export type { TensorMeta } from './gpu/gpu-object';

export { init, shutdown, isInitialized, type ShutdownOptions } from './api/lifecycle';
export { get, put, wait, free } from './api/objects';
export { spawn, kill, actorStats, objectStoreStats, type SpawnRest } from './api/actors';
export { emptyRegistered } from './api/registered-memory';
export { keep } from './gpu/borrowed-args';
export {
  createCollectiveGroup, destroyCollectiveGroup, destroyAllCollectiveGroups, getCollectiveGroups,
  allreduce, broadcast, barrier, waitTensorFreed,
  type CollectiveGroupHandle, type CreateCollectiveGroupOptions,
} from './api/collective';
