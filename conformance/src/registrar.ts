/**
 * A thin layer over the user's ava `test`: every suite test is serial (the large transfers and
 * process kills must not compete for two cores), titled with the transport's name, and tests
 * that do not apply are still listed, skipped, with the reason in the title.
 */
import type { ExecutionContext, TestFn } from 'ava';

export type SuiteTestFn = (t: ExecutionContext<unknown>) => Promise<void> | void;

export class Registrar {
  constructor(
    private readonly avaTest: TestFn<any>,
    readonly prefix: string,
  ) {}

  /** A test; `timeoutMs` is ava's per-test timeout (a hung transport fails the test, not the run). */
  test(title: string, fn: SuiteTestFn, timeoutMs = 120_000): void {
    this.avaTest.serial(this.prefix + title, async (t: ExecutionContext<unknown>) => {
      t.timeout(timeoutMs, `${this.prefix}${title}: no result within ${timeoutMs} ms (hang?)`);
      await fn(t);
    });
  }

  /** Runs once after every test of the file, whatever happened. */
  after(fn: () => Promise<void> | void): void {
    this.avaTest.after.always(async () => {
      await fn();
    });
  }

  skip(title: string, reason: string): void {
    this.avaTest.serial.skip(`${this.prefix}${title} -- skipped: ${reason}`, (t: ExecutionContext<unknown>) => t.pass());
  }

  /** A test that always fails with `message` (the suite cannot run, and says why). */
  fail(title: string, message: string): void {
    this.avaTest.serial(this.prefix + title, (t: ExecutionContext<unknown>) => {
      t.fail(message);
    });
  }
}
