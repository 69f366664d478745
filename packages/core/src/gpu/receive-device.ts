/**
 * Where a consumer receives the tensors of a GPU object. A CPU tensor arrives on the CPU. A
 * device tensor arrives on the consumer's first device of that kind ('cuda:0'), as Ray receives
 * onto the receiver's current device: the producer's 'cuda:N' names a device in the producer's
 * process, whose CUDA_VISIBLE_DEVICES is not the consumer's (an actor placed with
 * `spawn(Cls, { numGpus })` sees only its own GPUs, its first one as 'cuda:0'), so that index
 * means nothing here. A consumer that wants the tensors elsewhere moves them (`tensor.toAsync`).
 */
import { DeviceUnavailableError } from '../errors/errors';
import { countDevices, parseDevice } from '../tensor/device';
import type { GpuObjectInfo } from './gpu-object';

/**
 * The device each of `gpu`'s tensors is received on in this process ('cpu' or 'cuda:0').
 * Throws DeviceUnavailableError, naming the object, its producer and the fixes, when the object
 * holds device tensors and this process cannot allocate any (no device backend registered, or
 * the backend finds no device): checked before any transfer starts.
 */
export function receiveDevices(gpu: GpuObjectInfo, selfName: string): string[] {
  const devices = gpu.metas.map((m) => {
    const d = parseDevice(m.device);
    return d.kind === 'cpu' ? 'cpu' : `${d.kind}:0`;
  });
  const kind = devices.find((d) => d !== 'cpu');
  if (kind === undefined) return devices;
  const { count, reason } = countDevices('cuda');
  if (count > 0) return devices;
  const held = [...new Set(gpu.metas.map((m) => m.device).filter((d) => d !== 'cpu'))].join(', ');
  throw new DeviceUnavailableError(
    'cuda',
    `object ${gpu.objectId} (transport ${gpu.transport}) holds CUDA tensors (on ${held} of its producer, actor ${gpu.producerName}); ` +
      `receiving them in ${selfName} needs a CUDA device here (they arrive on cuda:0 of the receiving process), but ${reason}`,
    'import @tensorwire/cuda (the CUDA device backend) in this process, and run it where a GPU is visible ' +
      '(the driver: in the program that calls init(); an actor: in the module that defines its class, or spawn it with numGpus); ' +
      "or make the producing method return CPU tensors (tensor.cpu(), or await tensor.cpuAsync()); or, in the driver, get a CPU copy with get(ref, { tensorTransport: 'object-store' })",
  );
}
