/**
 * The system-level suite (through the runtime) on the in-package fake transports: checks the
 * suite's runtime tests themselves, and the runtime with a third-party-style plugin.
 */
import test from 'ava';
import { registerConformanceSuite } from './suite';

const options = { levels: ['system'] as const, largeBytes: 16 * 1024 * 1024, timeoutMs: 8000, soakTransfers: 1000 };
registerConformanceSuite(test, require.resolve('./fixtures/fake-two-sided'), options);
registerConformanceSuite(test, require.resolve('./fixtures/fake-one-sided'), options);
