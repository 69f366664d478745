#!/usr/bin/env node
'use strict';
/**
 * Counts one ava run's results from its TAP output (`ava --tap`), for scripts/test.sh.
 *
 *   node scripts/lib/tap-tally.js FILE
 * prints "PASSED FAILED SKIPPED COMPLETE" on the first line (COMPLETE is 1 when the TAP stream
 * reached ava's trailing "# tests N" summary), then the title of every failure, one per line.
 *
 * Counts the test lines themselves rather than ava's trailing counters: ava 7's counters do not
 * add up (a crashed file, an uncaught exception or a failing hook gives `not ok` lines that
 * "# fail" counts differently), and when a test times out or a test file calls process.exit(),
 * ava 7's TAP reporter itself crashes before it prints any counter. So:
 *   `ok N - t`               passed
 *   `ok N - t # SKIP`        skipped
 *   `not ok N - t # TODO`    skipped (test.todo)
 *   `not ok N - t`           failed (tests, hooks, uncaught exceptions, crashed files)
 * Only lines at the start of a line count: the YAML diagnostics under a result are indented,
 * and ava sends the tests' own console output to stderr, not into the TAP stream.
 */
const fs = require('node:fs');

const text = fs.readFileSync(process.argv[2], 'utf8');
let passed = 0;
let failed = 0;
let skipped = 0;
let complete = 0;
const failures = [];
for (const line of text.split(/\r?\n/)) {
  const m = /^(not ok|ok)\b(?:\s+\d+)?(?:\s*-)?\s*(.*)$/.exec(line);
  if (m) {
    const directive = /\s#\s*(SKIP|TODO)\b[^#]*$/i.exec(m[2]);
    if (directive) skipped++;
    else if (m[1] === 'ok') passed++;
    else {
      failed++;
      failures.push(m[2]);
    }
  } else if (/^# tests \d+\s*$/.test(line)) {
    complete = 1;
  }
}
console.log(`${passed} ${failed} ${skipped} ${complete}`);
for (const f of failures) console.log(f);
