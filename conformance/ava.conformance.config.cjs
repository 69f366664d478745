// ava config used by `tensorwire-conformance` (the CLI): runs only the shipped entry test file,
// whose target comes from $TENSORWIRE_CONFORMANCE_TARGET.
module.exports = {
  files: ['dist/entry/target.test.js'],
  workerThreads: false,
  timeout: '5m',
};
