/** The conformance suite on @tensorwire/nixl (one-sided reads of registered memory). */
import test from 'ava';
import { registerConformanceSuite } from './suite';

registerConformanceSuite(test, '@tensorwire/nixl', { cwd: __dirname });
