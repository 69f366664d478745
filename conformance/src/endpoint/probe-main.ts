/**
 * `node probe-main.js <module> <name>`: load a transport module in a throw-away process and print
 * its probe() result as JSON. The suite probes in a child so that a crashing native library
 * cannot take the test process down, and synchronously, because ava tests are registered synchronously.
 */
import type { Availability } from '@tensorwire/core';

async function main(): Promise<void> {
  const [modulePath, name] = process.argv.slice(2);
  let out: Availability;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const core = require('@tensorwire/core') as typeof import('@tensorwire/core');
    require(modulePath);
    out = await core.getTransport(name).plugin.probe();
  } catch (e) {
    out = { available: false, detail: `probe failed: ${(e as Error).message}` };
  }
  process.stdout.write(`\n@@probe ${JSON.stringify(out)}\n`);
  process.exit(0);
}
void main();
