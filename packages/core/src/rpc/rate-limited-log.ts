/**
 * Warnings about rejected control-plane connections, at most one per interval: an attacker
 * who opens thousands of connections must not also flood the driver's log. Lines suppressed
 * in between are counted and the count rides on the next line (or on {@link flush}).
 */
import type { Clock, Logger } from '../log/logger';
import { systemClock } from '../log/logger';

export class RateLimitedLog {
  private last = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly clock: Clock = systemClock,
  ) {}

  warn(message: string): void {
    const now = this.clock.now();
    if (now - this.last < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.last = now;
    this.logger.warn(message + this.takeSuppressed());
  }

  /** Report the count of lines suppressed since the last one, if any (e.g. at shutdown). */
  flush(what: string): void {
    if (this.suppressed > 0) this.logger.warn(`${what}${this.takeSuppressed()}`);
  }

  private takeSuppressed(): string {
    const n = this.suppressed;
    this.suppressed = 0;
    return n > 0 ? ` (and ${n} more since the previous report, not logged one by one)` : '';
  }
}
