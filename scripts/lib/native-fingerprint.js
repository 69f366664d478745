#!/usr/bin/env node
'use strict';
/**
 * Lets build.sh skip a native addon build when none of its inputs changed since the last
 * successful one: starting cmake-js (even when ninja/make then has nothing to do) costs seconds
 * per addon.
 *
 *   node scripts/lib/native-fingerprint.js check WORKSPACE_DIR   exit 0: unchanged, skip the build
 *   node scripts/lib/native-fingerprint.js write WORKSPACE_DIR   record the inputs after a build
 *   node scripts/lib/native-fingerprint.js clear WORKSPACE_DIR   forget (after a failed build)
 *
 * The fingerprint covers, by path, size and modification time (what make and ninja use too):
 * every file under WORKSPACE_DIR/native except its build/ directory, the repository's shared
 * native/ directory and the workspace's package.json; plus the Node version and the absolute
 * workspace path. It is stored in WORKSPACE_DIR/native/build/, so deleting the build directory
 * forces a build. Changes outside these inputs (an upgraded system library, say) need a forced
 * build: TENSORWIRE_FORCE_NATIVE=1 bash scripts/build.sh.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const [cmd, wsArg] = process.argv.slice(2);
if (!['check', 'write', 'clear'].includes(cmd) || !wsArg) {
  console.error('usage: native-fingerprint.js check|write|clear WORKSPACE_DIR');
  process.exit(2);
}
const ws = path.resolve(root, wsArg);
const buildDir = path.join(ws, 'native', 'build');
const stampFile = path.join(buildDir, '.tensorwire-inputs');

/** Appends "path size mtime" for every file under dir (sorted, skipping `skip`). */
function walk(dir, skip, out) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (p === skip) continue;
    if (e.isDirectory()) walk(p, skip, out);
    else {
      try {
        const st = fs.statSync(p);
        out.push(`${p} ${st.size} ${st.mtimeMs}`);
      } catch {
        // vanished while walking: the next build sees it
      }
    }
  }
}

function fingerprint() {
  const lines = [`node ${process.version}`, `workspace ${ws}`];
  walk(path.join(ws, 'native'), buildDir, lines);
  walk(path.join(root, 'native'), null, lines);
  const pkg = path.join(ws, 'package.json');
  lines.push(`${pkg} ${fs.readFileSync(pkg, 'utf8')}`);
  return crypto.createHash('sha256').update(lines.join('\n')).digest('hex');
}

if (cmd === 'check') {
  let stored = '';
  try {
    stored = fs.readFileSync(stampFile, 'utf8').trim();
  } catch {
    process.exit(1);
  }
  process.exit(stored === fingerprint() ? 0 : 1);
} else if (cmd === 'write') {
  fs.mkdirSync(buildDir, { recursive: true });
  fs.writeFileSync(stampFile, fingerprint() + '\n');
} else {
  fs.rmSync(stampFile, { force: true });
}
