#!/usr/bin/env node
'use strict';
/**
 * Lists the npm workspaces of the repository, one relative directory per line, in the order of
 * the root package.json's "workspaces" (patterns expanded alphabetically), so scripts discover
 * packages instead of hard-coding them. Uses only Node built-ins: it runs before `npm ci`.
 *
 *   node scripts/lib/workspaces.js                  every workspace
 *   node scripts/lib/workspaces.js --script NAME    those whose package.json has scripts[NAME]
 *   node scripts/lib/workspaces.js --ava            those with a "test" script and an "ava" config
 *   node scripts/lib/workspaces.js --bins           "dir<TAB>package<TAB>bin<TAB>target" per bin entry
 */
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** Expands one workspace pattern; supports literal paths and `*` inside path segments. */
function expand(pattern) {
  let dirs = [''];
  for (const segment of pattern.replace(/\/+$/, '').split('/')) {
    const next = [];
    for (const dir of dirs) {
      if (!segment.includes('*')) {
        next.push(path.posix.join(dir, segment));
        continue;
      }
      const re = new RegExp('^' + segment.split('*').map(escapeRe).join('[^/]*') + '$');
      let entries = [];
      try {
        entries = fs.readdirSync(path.join(root, dir), { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries.filter((e) => e.isDirectory() && re.test(e.name)).map((e) => e.name).sort()) {
        next.push(path.posix.join(dir, e));
      }
    }
    dirs = next;
  }
  return dirs.filter((d) => fs.existsSync(path.join(root, d, 'package.json')));
}

function escapeRe(s) {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

function workspaces() {
  const pkg = readJson(path.join(root, 'package.json'));
  const patterns = Array.isArray(pkg.workspaces) ? pkg.workspaces : (pkg.workspaces?.packages ?? []);
  const seen = new Set();
  const out = [];
  for (const p of patterns) {
    for (const d of expand(p)) {
      if (!seen.has(d)) {
        seen.add(d);
        out.push({ dir: d, pkg: readJson(path.join(root, d, 'package.json')) });
      }
    }
  }
  return out;
}

function main(argv) {
  const list = workspaces();
  if (argv[0] === '--script' && argv[1]) {
    for (const w of list) if (w.pkg.scripts?.[argv[1]]) console.log(w.dir);
  } else if (argv[0] === '--ava') {
    for (const w of list) if (w.pkg.scripts?.test && w.pkg.ava) console.log(w.dir);
  } else if (argv[0] === '--bins') {
    for (const w of list) {
      const bin = typeof w.pkg.bin === 'string' ? { [w.pkg.name.split('/').pop()]: w.pkg.bin } : (w.pkg.bin ?? {});
      for (const [name, target] of Object.entries(bin)) console.log([w.dir, w.pkg.name, name, target].join('\t'));
    }
  } else if (argv.length === 0) {
    for (const w of list) console.log(w.dir);
  } else {
    console.error('usage: workspaces.js [--script NAME | --ava | --bins]');
    process.exit(2);
  }
}

main(process.argv.slice(2));
