import test from 'ava';
import { InvalidTransportError } from '../errors/errors';
import { TransportError, isTransportError, transportErrorKind } from './transport-error';

class ShmError extends TransportError {}

test('a TransportError keeps the library code and message and says what happened (kind)', (t) => {
  const err = new ShmError('TIMEOUT', 'SHM_TIMEOUT', 'shm read: no answer within 100 ms');
  t.true(err instanceof TransportError);
  t.is(err.kind, 'TIMEOUT');
  t.is(err.code, 'SHM_TIMEOUT');
  t.is(err.name, 'ShmError');
  t.true(isTransportError(err));
  t.is(transportErrorKind(err), 'TIMEOUT');
});

test('a plain Error, or a look-alike without the brand, is not a TransportError (kind INTERNAL)', (t) => {
  const plain = Object.assign(new Error('boom'), { kind: 'TIMEOUT', code: 'X' });
  t.false(isTransportError(plain));
  t.is(transportErrorKind(plain), 'INTERNAL');
  t.is(transportErrorKind('not an error'), 'INTERNAL');
});

test('the unknown-transport error suggests npm install only for the project\'s own transports', (t) => {
  const own = new InvalidTransportError('gloo', []);
  t.regex(own.message, /npm install @tensorwire\/gloo/);
  const third = new InvalidTransportError('acme-rdma', ['gloo']);
  t.notRegex(third.message, /npm install/);
  t.regex(third.message, /Import the package that provides 'acme-rdma'/);
  const proto = new InvalidTransportError('constructor', []);
  t.notRegex(proto.message, /npm install/);
});

test('the unknown-transport error names the intended transport for a typo, and invents no package', (t) => {
  const typo = new InvalidTransportError('Gloo', []);
  t.is(typo.suggestion, 'gloo');
  t.regex(typo.message, /unknown tensor transport 'Gloo': did you mean 'gloo'\?/);
  t.regex(typo.message, /npm install @tensorwire\/gloo/);
  t.notRegex(typo.message, /@tensorwire\/Gloo/);
  const installedTypo = new InvalidTransportError('nixll', ['nixl']);
  t.regex(installedTypo.message, /did you mean 'nixl'\?/);
  t.notRegex(installedTypo.message, /npm install/, 'an installed transport needs no install');
  const nccl = new InvalidTransportError('nccl', ['gloo']);
  t.regex(nccl.message, /Install and import its package: `npm install @tensorwire\/nccl` and `import '@tensorwire\/nccl'`/);
  const store = new InvalidTransportError('object_store', []);
  t.regex(store.message, /did you mean 'object-store'\?/);
  t.notRegex(store.message, /npm install|Import the package/);
});
