/**
 * Importing @tensorwire/gloo declares 'gloo' to the compiler (module augmentation of core's
 * TensorTransports), so a misspelt name fails at compile time, and at run time with the fix.
 */
import test from 'ava';
import { createCollectiveGroup, method, InvalidTransportError, type TensorTransportName } from '@tensorwire/core';
import './index';

test("'gloo' is a declared transport name; 'Gloo' fails at compile time and names 'gloo' at run time", (t) => {
  const name: TensorTransportName = 'gloo';
  t.notThrows(() => method({ tensorTransport: name }));
  // @ts-expect-error: transport names are case-sensitive
  const err = t.throws(() => method({ tensorTransport: 'Gloo' }), { instanceOf: InvalidTransportError });
  t.regex(err!.message, /did you mean 'gloo'\?/);
  t.notRegex(err!.message, /npm install/, 'gloo is installed: nothing to install');
});

/** Never called: the compiler checks these lines (an unused @ts-expect-error fails the build). */
export async function compileTimeChecks(): Promise<void> {
  await createCollectiveGroup([], { backend: 'gloo' });
  // @ts-expect-error: 'object-store' is no collective backend
  await createCollectiveGroup([], { backend: 'object-store' });
  // @ts-expect-error: not a declared transport name
  await createCollectiveGroup([], { backend: 'glo' });
}
