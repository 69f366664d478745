/** Runs the weight-sync example quickly (small weights, two steps) over gloo and over nixl. */
import test from 'ava';
import { execFile } from 'node:child_process';
import * as path from 'node:path';

const MAIN = path.join(__dirname, 'main.js');

function run(transport: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [MAIN, transport, '2', '1'], { timeout: 90_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

for (const transport of ['gloo', 'nixl']) {
  test.serial(`weight-sync over ${transport}: two steps, both inference actors hold each step's weights`, async (t) => {
    const out = await run(transport);
    t.regex(out, new RegExp(`weight sync over ${transport}: 4 tensors, 1 MiB, 2 steps`));
    t.regex(out, /^ {3}1 +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+$/m, 'step 1 prints both timings for both actors');
    t.regex(out, /^ {3}2 /m);
    t.regex(out, /done: every inference actor held each step's weights in its own tensors/);
  });
}
