/**
 * Importing @tensorwire/nixl declares 'nixl' to the compiler (module augmentation of core's
 * TensorTransports), so a misspelt name fails at compile time, and at run time with the fix.
 */
import test from 'ava';
import { method, transportName, InvalidTransportError, type TensorTransportName } from '@tensorwire/core';
import './index';

test("'nixl' is a declared transport name; 'NIXL' fails at compile time and names 'nixl' at run time", (t) => {
  const name: TensorTransportName = 'nixl';
  t.notThrows(() => method({ tensorTransport: name }));
  // @ts-expect-error: transport names are case-sensitive
  const err = t.throws(() => method({ tensorTransport: 'NIXL' }), { instanceOf: InvalidTransportError });
  t.regex(err!.message, /did you mean 'nixl'\?/);
  t.is(transportName(['ni', 'xl'].join('')), 'nixl', 'a name from a variable is checked and typed');
});
