/**
 * @tensorwire/conformance: the shared conformance suite every tensorwire tensor transport passes.
 *
 * Programmatic use (an ava test file of your transport package):
 * ```ts
 * import test from 'ava';
 * import { registerConformanceSuite } from '@tensorwire/conformance';
 * registerConformanceSuite(test, '@acme/tensorwire-rdma');
 * ```
 * Command line: `npx tensorwire-conformance <transport-package>`.
 */
export { registerConformanceSuite, type ConformancePlan } from './suite';
export type { ConformanceOptions } from './options';
export { loadTarget, resolveModulePath, type ConformanceTarget, type ResolvedTarget } from './target';
/** The environment variable the shipped test entry (and the CLI) reads the target from. */
export { TARGET_ENV, OPTIONS_ENV } from './entry/env';
