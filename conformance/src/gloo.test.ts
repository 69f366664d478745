/** The conformance suite on @tensorwire/gloo (two-sided, CPU, over collective groups). */
import test from 'ava';
import { registerConformanceSuite } from './suite';

registerConformanceSuite(test, '@tensorwire/gloo', { cwd: __dirname });
