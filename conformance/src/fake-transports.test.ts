/**
 * The suite run on the in-package fake transports: proves the harness (peers, rendezvous, kills,
 * checks) without native code. Endpoint level only; the system level runs with real transports.
 */
import test from 'ava';
import { registerConformanceSuite } from './suite';

const options = { levels: ['endpoint'] as const, largeBytes: 64 * 1024 * 1024, timeoutMs: 8000 };
registerConformanceSuite(test, require.resolve('./fixtures/fake-two-sided'), options);
registerConformanceSuite(test, require.resolve('./fixtures/fake-one-sided'), options);
