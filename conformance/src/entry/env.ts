/** Absolute path of the transport module the shipped entry test file runs the suite on. */
export const TARGET_ENV = 'TENSORWIRE_CONFORMANCE_TARGET';
/** Optional JSON ConformanceOptions for the shipped entry test file. */
export const OPTIONS_ENV = 'TENSORWIRE_CONFORMANCE_OPTIONS';
