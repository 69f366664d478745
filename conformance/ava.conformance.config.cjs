// ava config used by `tensorwire-conformance` (the CLI): runs only the shipped entry file,
// whose target comes from $TENSORWIRE_CONFORMANCE_TARGET. Its name has no ".test." because the
// package ships no test files; ava runs whatever `files` names.
module.exports = {
  files: ['dist/entry/cli-suite.js'],
  workerThreads: false,
  timeout: '5m',
};
