#!/usr/bin/env node
'use strict';
/**
 * Decides whether `npm ci` must run, so a second `setup.sh` is fast and needs no network.
 *
 *   node scripts/lib/install-state.js check   exit 0 when node_modules matches package-lock.json,
 *                                             else exit 1 and print the reason
 *   node scripts/lib/install-state.js write   record that node_modules now matches the lock
 *
 * Fast path: node_modules/.tensorwire-install.stamp holds the SHA-256 of the package-lock.json
 * that was installed. Without a matching stamp (a checkout installed by hand, or a lock that
 * changed), node_modules still counts as up to date when npm's own record of the installed tree
 * (node_modules/.package-lock.json) has every locked package at the locked version and each one
 * is on disk; that avoids a needless reinstall (and network) on a machine already installed.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const lockFile = path.join(root, 'package-lock.json');
const modules = path.join(root, 'node_modules');
const stampFile = path.join(modules, '.tensorwire-install.stamp');

function lockHash() {
  return crypto.createHash('sha256').update(fs.readFileSync(lockFile)).digest('hex');
}

/** Returns null when the installed tree matches the lock, else why not. */
function staleReason() {
  if (!fs.existsSync(lockFile)) return 'package-lock.json is missing (npm ci needs it)';
  if (!fs.existsSync(modules)) return 'node_modules is missing';
  const hash = lockHash();
  try {
    if (fs.readFileSync(stampFile, 'utf8').trim() === hash) return null;
  } catch {
    // no stamp: fall through to the full comparison
  }
  const hiddenFile = path.join(modules, '.package-lock.json');
  if (!fs.existsSync(hiddenFile)) return 'node_modules has no record of what npm installed';
  const locked = JSON.parse(fs.readFileSync(lockFile, 'utf8')).packages ?? {};
  const installed = JSON.parse(fs.readFileSync(hiddenFile, 'utf8')).packages ?? {};
  for (const [key, entry] of Object.entries(locked)) {
    if (key === '' || !key.includes('node_modules/')) continue; // the root and workspace sources
    const onDisk = fs.existsSync(path.join(root, key, entry.link ? '' : 'package.json'));
    const have = installed[key];
    if (!have || !onDisk) {
      if (entry.optional) continue; // e.g. another platform's prebuilt binary
      return `${key} is not installed`;
    }
    if (!entry.link && have.version !== entry.version) {
      return `${key} is ${have.version}, package-lock.json wants ${entry.version}`;
    }
  }
  return null;
}

const cmd = process.argv[2];
if (cmd === 'check') {
  const reason = staleReason();
  if (reason) {
    console.log(reason);
    process.exit(1);
  }
  // Matches without a stamp: record it so the next check takes the fast path.
  try {
    fs.writeFileSync(stampFile, lockHash() + '\n');
  } catch {
    // read-only node_modules: the full comparison simply runs again next time
  }
} else if (cmd === 'write') {
  fs.writeFileSync(stampFile, lockHash() + '\n');
} else {
  console.error('usage: install-state.js check|write');
  process.exit(2);
}
