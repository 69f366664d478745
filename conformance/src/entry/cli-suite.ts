/**
 * The test file the CLI runs (see ava.conformance.config.cjs): the target comes from
 * $TENSORWIRE_CONFORMANCE_TARGET (an absolute module path), options from
 * $TENSORWIRE_CONFORMANCE_OPTIONS (JSON).
 */
import test from 'ava';
import { registerConformanceSuite } from '../suite';
import { OPTIONS_ENV, TARGET_ENV } from './env';

const target = process.env[TARGET_ENV];
if (!target) {
  test(`conformance target`, (t) => {
    t.fail(`set ${TARGET_ENV} to the transport module (or run: npx tensorwire-conformance <transport-package>)`);
  });
} else {
  const options = process.env[OPTIONS_ENV] ? JSON.parse(process.env[OPTIONS_ENV]!) : {};
  registerConformanceSuite(test, target, options);
}
