/** The addon loader: a missing or unloadable addon is reported with the fix, never as "Cannot find module". */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const INDEX = JSON.stringify(path.join(__dirname, 'index.js'));

/** Runs `script` in a fresh Node process whose TENSORWIRE_NIXL_ADDON names an addon that does not exist. */
function withoutAddon(script: string): string {
  return execFileSync(process.execPath, ['-e', script], {
    env: { ...process.env, TENSORWIRE_NIXL_ADDON: '/nonexistent/tensorwire_nixl.node' },
    encoding: 'utf8',
  });
}

test('probe never throws and says how to fix a missing addon', (t) => {
  const a = JSON.parse(withoutAddon(`require(${INDEX}).nixlPlugin.probe().then(a => console.log(JSON.stringify(a)))`));
  t.false(a.available);
  t.regex(a.detail, /not built \(\/nonexistent\/tensorwire_nixl\.node is missing\)/);
  t.regex(a.fix, /apt-get install libucx-dev, then npm run build:native -w @tensorwire\/nixl/);
});

test('createEndpoint fails with NIXL_ADDON_MISSING and the fix when the addon is missing', (t) => {
  const out = withoutAddon(
    `require(${INDEX}).nixlPlugin.createEndpoint({processName:'x',options:{},log(){}})` +
      `.then(() => console.log('created'), e => console.log(e.name + ' ' + e.code + ' ' + e.kind + ': ' + e.message))`,
  );
  t.regex(out, /^NixlUnavailableError NIXL_ADDON_MISSING UNAVAILABLE: the nixl transport is not available: the native addon was not built/);
  t.regex(out, /Fix: apt-get install libucx-dev, then npm run build:native -w @tensorwire\/nixl/);
});

test('an addon file that does not load names the file and the fix', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tensorwire-nixl-addon-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const broken = path.join(dir, 'tensorwire_nixl.node');
  fs.writeFileSync(broken, 'not a shared object');
  const out = execFileSync(process.execPath, ['-e', `require(${INDEX}).nixlPlugin.probe().then(a => console.log(JSON.stringify(a)))`], {
    env: { ...process.env, TENSORWIRE_NIXL_ADDON: broken },
    encoding: 'utf8',
  });
  const a = JSON.parse(out);
  t.false(a.available);
  t.regex(a.detail, /the native addon .*tensorwire_nixl\.node failed to load/);
  t.regex(a.fix, /npm run build:native -w @tensorwire\/nixl/);
});
