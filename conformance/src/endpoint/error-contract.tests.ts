/**
 * The SPI's error contract (`TransportError` in `@tensorwire/core/spi`): every failure of an
 * endpoint or group is a TransportError whose `kind` says what happened. Checked in this
 * process, on an endpoint of the transport under test, with failures that need no peer:
 * arguments the transport cannot take (INVALID) and operations after `close()` (CLOSED).
 * Timeouts, aborts and dead peers are checked with real peers in the one- and two-sided tests.
 */
import type { ExecutionContext } from 'ava';
import type { RendezvousStore, TransportEndpoint, TransportErrorKind } from '@tensorwire/core';
import { isTransportError } from '@tensorwire/core';
import type { Registrar } from '../registrar';
import { makeTensor, RendezvousHub } from '../testing';
import { specsOn, type EndpointSuiteContext } from './env';

type T = ExecutionContext<unknown>;

/** A rendezvous store in this process (the groups here never get a second member). */
function localStore(group: string): RendezvousStore {
  return new RendezvousHub().storeFor(group);
}

/** `p` rejects with a TransportError of one of `kinds` (and says which it got otherwise). */
async function expectTransportError(t: T, p: Promise<unknown>, kinds: readonly TransportErrorKind[], what: string): Promise<void> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  if (caught === undefined) {
    t.fail(`${what}: succeeded, expected a TransportError (${kinds.join(' or ')})`);
    return;
  }
  const e = caught as { name?: string; kind?: string; code?: string; message?: string };
  t.true(isTransportError(caught), `${what}: threw ${e.name} (code ${e.code}): ${e.message}; a transport throws TransportError subclasses (see @tensorwire/core/spi)`);
  if (!isTransportError(caught)) return;
  t.true(kinds.includes(caught.kind), `${what}: kind ${caught.kind} (code ${caught.code}), expected ${kinds.join(' or ')}: ${caught.message}`);
  t.log(`${what}: ${caught.name} kind ${caught.kind}, code ${caught.code}`);
}

export function registerErrorContractTests(r: Registrar, ctx: EndpointSuiteContext): void {
  const { target } = ctx;
  const d = `endpoint/${ctx.device} errors: `;
  const spec = specsOn(ctx.device);
  const open = async (name: string): Promise<TransportEndpoint> =>
    target.plugin.createEndpoint({ processName: `conformance-${name}-${process.pid}`, options: {}, log: () => {} });

  r.test(`${d}arguments the transport cannot take fail with a TransportError of kind INVALID`, async (t) => {
    const ep = await open('invalid');
    try {
      if (ep.kind === 'one-sided') {
        await expectTransportError(t, ep.read({ not: 'a descriptor of this transport' }, [makeTensor(spec(16, 4))], 5_000), ['INVALID'], 'read of a forged descriptor');
      } else {
        const group = ep.createGroup({ name: `conformance-invalid-${process.pid}`, rank: 2, worldSize: 2, rendezvous: localStore('invalid'), timeoutMs: 5_000 });
        await expectTransportError(t, group, ['INVALID'], 'createGroup with rank 2 of worldSize 2');
      }
    } finally {
      await ep.close();
    }
  });

  r.test(`${d}operations after close() fail with a TransportError of kind CLOSED`, async (t) => {
    const ep = await open('closed');
    await ep.close();
    if (ep.kind === 'one-sided') {
      await expectTransportError(t, Promise.resolve().then(() => ep.register([makeTensor(spec(16, 4))])), ['CLOSED'], 'register after close()');
    } else {
      const group = Promise.resolve().then(() =>
        ep.createGroup({ name: `conformance-closed-${process.pid}`, rank: 0, worldSize: 1, rendezvous: localStore('closed'), timeoutMs: 5_000 }),
      );
      await expectTransportError(t, group, ['CLOSED'], 'createGroup after close()');
    }
  });
}
