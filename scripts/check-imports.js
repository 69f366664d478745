#!/usr/bin/env node
'use strict';
// Checks the import structure of every workspace's src/ (run by `npm test`, or alone with
// `npm run check:imports`):
//   1. no import cycle between files, in any package (type-only imports and re-exports count:
//      a cycle of types is still a cycle a reader has to untangle);
//   2. no cycle between packages (@tensorwire/a -> @tensorwire/b -> @tensorwire/a);
//   3. in packages that declare layers (tests, *.test.ts, excepted) (a "layers.json" next to package.json: an ordered list
//      of src/ folders, bottom first), a file imports only from its own folder or a folder
//      listed before it. packages/core/ARCHITECTURE.md explains core's layers.
// Prints each violation with the files involved, then one line "imports: N cycles, N layer
// violations"; exits 1 when there is any.
// Usage: node scripts/check-imports.js [--quiet]
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const root = path.resolve(__dirname, '..');
const quiet = process.argv.includes('--quiet');

/** Workspace directories from the root package.json's "workspaces" globs (dir/* or dir). */
function workspaceDirs() {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const dirs = [];
  for (const pattern of pkg.workspaces) {
    if (pattern.endsWith('/*')) {
      const parent = path.join(root, pattern.slice(0, -2));
      if (!fs.existsSync(parent)) continue;
      for (const name of fs.readdirSync(parent).sort()) {
        const dir = path.join(parent, name);
        if (fs.existsSync(path.join(dir, 'package.json'))) dirs.push(dir);
      }
    } else if (fs.existsSync(path.join(root, pattern, 'package.json'))) {
      dirs.push(path.join(root, pattern));
    }
  }
  return dirs;
}

function sourceFiles(dir) {
  const out = [];
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|tsx|mts|cts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** A relative specifier resolved to a source file the way TypeScript would (x.ts, x/index.ts). */
function resolveRelative(fromFile, spec) {
  const base = path.resolve(path.dirname(fromFile), spec.replace(/\.(c|m)?js$/, ''));
  for (const candidate of [base + '.ts', base + '.tsx', path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}

/** Every module specifier a file names: import, export ... from, import type, require, import(). */
function specifiersOf(file) {
  const text = fs.readFileSync(file, 'utf8');
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map((f) => f.fileName);
}

/** Strongly connected components of a directed graph (Tarjan), as arrays of node names. */
function stronglyConnected(graph) {
  let index = 0;
  const stack = [];
  const onStack = new Set();
  const indices = new Map();
  const low = new Map();
  const components = [];
  function visit(v) {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), indices.get(w)));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component);
    }
  }
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return components.filter((c) => c.length > 1 || (graph.get(c[0]) ?? new Set()).has(c[0]));
}

/** One shortest cycle through `start` inside a component, to show a reader concrete edges. */
function cycleThrough(graph, start, members) {
  const previous = new Map([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const cycle = [v];
        for (let p = previous.get(v); p !== null; p = previous.get(p)) cycle.unshift(p);
        return [...cycle, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

const rel = (file) => path.relative(root, file);
/** The top folder of `file` under `srcDir`; undefined for a file directly in src/ (index.ts, spi.ts). */
function folderOf(srcDir, file) {
  const parts = path.relative(srcDir, file).split(path.sep);
  return parts.length > 1 ? parts[0] : undefined;
}
let cycles = 0;
let layerViolations = 0;
const packageGraph = new Map();
const packageNames = new Map();
const dirs = workspaceDirs();
for (const dir of dirs) {
  packageNames.set(JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name, dir);
}

for (const [pkgName, dir] of packageNames) {
  const srcDir = path.join(dir, 'src');
  const graph = new Map();
  const layersFile = path.join(dir, 'layers.json');
  const layers = fs.existsSync(layersFile) ? JSON.parse(fs.readFileSync(layersFile, 'utf8')).layers : null;
  const depends = new Set();
  for (const file of sourceFiles(srcDir)) {
    const edges = new Set();
    for (const spec of specifiersOf(file)) {
      if (spec.startsWith('.')) {
        const target = resolveRelative(file, spec);
        if (target) edges.add(target);
        // Tests of a folder may use test support from the top (test/, testing/): layers apply to the code they test.
        if (target && layers && !/\.test\.tsx?$/.test(file)) {
          const from = folderOf(srcDir, file);
          const to = folderOf(srcDir, target);
          const fromRank = layers.indexOf(from);
          const toRank = layers.indexOf(to);
          if (from !== to && from !== undefined && to !== undefined) {
            if (fromRank < 0 || toRank < 0) {
              layerViolations++;
              const missing = fromRank < 0 ? from : to;
              console.log(`layer: ${rel(file)} -> ${rel(target)}: folder '${missing}' is not listed in ${rel(layersFile)}`);
            } else if (toRank > fromRank) {
              layerViolations++;
              console.log(`layer: ${rel(file)} imports ${rel(target)}: '${from}' sits below '${to}' in ${rel(layersFile)}`);
            }
          }
        }
      } else {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (packageNames.has(name) && name !== pkgName) depends.add(name);
      }
    }
    graph.set(file, edges);
  }
  packageGraph.set(pkgName, depends);
  for (const component of stronglyConnected(graph)) {
    cycles++;
    const members = new Set(component);
    const start = [...component].sort()[0];
    const shown = cycleThrough(graph, start, members).map(rel).join('\n    -> ');
    console.log(`cycle in ${pkgName} (${component.length} files):\n    ${shown}`);
  }
  if (!quiet) console.log(`checked ${pkgName}: ${graph.size} files`);
}

for (const component of stronglyConnected(packageGraph)) {
  cycles++;
  console.log(`package cycle: ${component.join(' <-> ')}`);
}

console.log(`imports: ${cycles} cycles, ${layerViolations} layer violations`);
process.exit(cycles + layerViolations > 0 ? 1 : 0);
