/**
 * 'fake-unavailable': a transport whose probe() says it cannot run, to test how the suite and
 * the CLI report that (one failing test naming the fix, or skipped with skipUnavailable).
 */
import { registerTransport, type TransportPlugin } from '@tensorwire/core';

export const fakeUnavailablePlugin: TransportPlugin = {
  name: 'fake-unavailable',
  kind: 'one-sided',
  supports: { devices: ['cpu'] },
  async probe() {
    return { available: false, detail: 'libfake.so.1 not found', fix: 'apt-get install libfake1' };
  },
  async createEndpoint() {
    throw new Error('fake-unavailable cannot create endpoints');
  },
};

registerTransport(fakeUnavailablePlugin, { module: __filename });
