/**
 * One endpoint per transport per process, created on first use. Availability is checked
 * first so a missing library surfaces as TransportUnavailableError with its fix.
 */
import { TransportUnavailableError } from '../errors/errors';
import type { Logger } from '../log/logger';
import { getTransport } from './registry';
import type { TransportEndpoint } from './spi';

export class EndpointCache {
  private readonly endpoints = new Map<string, Promise<TransportEndpoint>>();

  constructor(
    private readonly processName: string,
    private readonly logger: Logger,
    private readonly options: Record<string, Record<string, unknown>> = {},
  ) {}

  get(name: string): Promise<TransportEndpoint> {
    let ep = this.endpoints.get(name);
    if (!ep) {
      ep = this.create(name);
      this.endpoints.set(name, ep);
      ep.catch(() => this.endpoints.delete(name));
    }
    return ep;
  }

  private async create(name: string): Promise<TransportEndpoint> {
    const { plugin } = getTransport(name);
    const avail = await plugin.probe();
    if (!avail.available) throw new TransportUnavailableError(name, avail.detail, avail.fix);
    return plugin.createEndpoint({
      processName: this.processName,
      options: this.options[name] ?? {},
      log: (level, message) => this.logger[level](`[${name}] ${message}`),
    });
  }

  async closeAll(): Promise<void> {
    const eps = [...this.endpoints.values()];
    this.endpoints.clear();
    await Promise.allSettled(eps.map(async (p) => (await p).close()));
  }
}
