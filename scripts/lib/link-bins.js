#!/usr/bin/env node
'use strict';
/**
 * Makes the workspaces' command-line tools runnable after a build (`npx tensorwire doctor`).
 *
 * Why: `npm ci` runs before the build, when a workspace's "bin" target (e.g. dist/cli/main.js)
 * does not exist yet, so npm neither links it into node_modules/.bin nor marks it executable,
 * and tsc emits files without the executable bit. Worse, `npx tensorwire` with no local link
 * would look the name up in the registry. This links each workspace bin the way npm does
 * (node_modules/.bin/NAME -> ../@scope/pkg/TARGET) and sets its executable bits.
 * A bin whose target was not built is reported on stderr as a warning (the package is
 * incomplete, but that alone should not stop the tests from running).
 */
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '..', '..');
const binDir = path.join(root, 'node_modules', '.bin');
const lines = execFileSync(process.execPath, [path.join(__dirname, 'workspaces.js'), '--bins'], { encoding: 'utf8' })
  .split('\n')
  .filter(Boolean);

for (const line of lines) {
  const [dir, pkgName, binName, target] = line.split('\t');
  const file = path.join(root, dir, target);
  if (!fs.existsSync(file)) {
    console.error(`[tensorwire build] warning: ${pkgName} bin '${binName}': ${path.join(dir, target)} was not built`);
    continue;
  }
  const mode = fs.statSync(file).mode;
  if ((mode & 0o111) !== 0o111) fs.chmodSync(file, mode | 0o111);
  const link = path.join(binDir, binName);
  const want = path.relative(binDir, path.join(root, 'node_modules', pkgName, target));
  let have = null;
  try {
    have = fs.readlinkSync(link);
  } catch {
    // absent (or not a link): replaced below
  }
  if (have !== want) {
    fs.mkdirSync(binDir, { recursive: true });
    fs.rmSync(link, { force: true });
    fs.symlinkSync(want, link);
  }
}
