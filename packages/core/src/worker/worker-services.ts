/**
 * Services of the actor process that actor code reaches through the public API
 * (`waitTensorFreed`, the collective helpers).
 */
import type { TensorStore } from '../gpu/tensor-store';
import type { CollectiveGroup, TransportEndpoint } from '../transport/spi';

export interface WorkerServices {
  tensorStore: TensorStore;
  group(name: string): CollectiveGroup | undefined;
  groupNames(): string[];
  endpoint(transport: string): Promise<TransportEndpoint>;
}

let services: WorkerServices | null = null;

export function setWorkerServices(s: WorkerServices): void {
  services = s;
}

export function workerServices(): WorkerServices | null {
  return services;
}
