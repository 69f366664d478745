/** Test helpers: waiting for something that happens later (finalizers, other processes). */

/** Resolves once `cond()` is true, checking after each macrotask; rejects after `limitMs`. */
export async function waitFor(cond: () => boolean, limitMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > limitMs) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs a full garbage collection (ava runs these tests with --expose-gc) and lets finalizers run. */
export async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (the package.json ava config does)');
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
}
