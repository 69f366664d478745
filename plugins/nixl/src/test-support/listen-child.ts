/**
 * Test helper process: creates one nixl endpoint with the transport options in argv[2] (JSON),
 * reports { netDevices } (or { error }) to the parent, and closes when the parent disconnects.
 * A separate process so the test controls its environment (UCX_NET_DEVICES, TENSORWIRE_NIXL_HOST).
 */
import { nixlPlugin } from '../index';
import type { NixlEndpoint } from '../endpoint';

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
  let endpoint: NixlEndpoint;
  try {
    endpoint = (await nixlPlugin.createEndpoint({ processName: 'listen-child', options, log: () => undefined })) as NixlEndpoint;
  } catch (e) {
    const err = e as Error & { code?: string };
    process.send!({ error: { message: err.message, code: err.code } });
    process.disconnect();
    return;
  }
  process.send!({ netDevices: endpoint.netDevices });
  process.once('disconnect', () => void endpoint.close().then(() => process.exit(0)));
}

void main();
