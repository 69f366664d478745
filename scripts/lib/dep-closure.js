#!/usr/bin/env node
'use strict';
// Prints, one per line, the node_modules directories (relative to the repo root) that the given
// workspaces need at run time, plus extra packages named with --also (e.g. ava for the tests):
// the closure of "dependencies", "optionalDependencies" and "peerDependencies" (when installed),
// resolved the way Node resolves them (nested node_modules first, then each parent's). Workspace
// packages themselves are printed as their node_modules/@scope/name link.
// --skip NAME... leaves out packages needed only to build (e.g. cmake-js, node-addon-api).
// Usage: node scripts/lib/dep-closure.js WORKSPACE_DIR... [--also NAME...] [--skip NAME...]
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
/** The words after `flag` up to the next --flag. */
function listAfter(argv, flag) {
  const at = argv.indexOf(flag);
  if (at < 0) return [];
  const rest = argv.slice(at + 1);
  const end = rest.findIndex((a) => a.startsWith('--'));
  return end < 0 ? rest : rest.slice(0, end);
}
const args = process.argv.slice(2);
const firstFlag = args.findIndex((a) => a.startsWith('--'));
const workspaces = firstFlag < 0 ? args : args.slice(0, firstFlag);
const also = listAfter(args, '--also');
const skip = new Set(listAfter(args, '--skip'));

const readJson = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));
const seen = new Set();
const out = new Set();

/** The directory of package `name` as required from directory `fromDir`, or undefined. */
function resolvePackage(name, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === root || dir === path.dirname(dir)) return undefined;
  }
}

function visit(name, fromDir, optional) {
  if (skip.has(name)) return;
  const dir = resolvePackage(name, fromDir);
  if (!dir) {
    if (!optional) throw new Error(`${name} (needed from ${path.relative(root, fromDir) || '.'}) is not installed`);
    return;
  }
  out.add(path.relative(root, dir));
  const real = fs.realpathSync(dir);
  if (seen.has(real)) return;
  seen.add(real);
  const pkg = readJson(path.join(real, 'package.json'));
  for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, real, false);
  for (const dep of Object.keys(pkg.optionalDependencies ?? {})) visit(dep, real, true);
  for (const dep of Object.keys(pkg.peerDependencies ?? {})) visit(dep, real, true);
}

for (const ws of workspaces) {
  const dir = path.resolve(root, ws);
  const pkg = readJson(path.join(dir, 'package.json'));
  visit(pkg.name, root, false);
}
for (const name of also) visit(name, root, false);
for (const p of [...out].sort()) console.log(p);
