/**
 * Validation of the numbers users pass to the API (timeouts, sizes, counts), once, at the API
 * boundary: a bad value fails at once with an InvalidArgumentError that names the option and
 * what it accepts, instead of surfacing later as an instant timeout, a "timed out after NaN ms"
 * or a silently disabled deadline.
 */
import { InvalidArgumentError } from '../errors/errors';

/** Node's timers fire at once for delays above this (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

function describeValue(v: unknown): string {
  return typeof v === 'number' ? String(v) : `${typeof v} ${JSON.stringify(v) ?? String(v)}`;
}

/**
 * A duration in milliseconds: a finite number from `min` (1 unless zero is meaningful) to
 * MAX_TIMER_MS. Returns it, or undefined when `v` is undefined.
 */
export function checkDurationMs(name: string, v: unknown, min = 1): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > MAX_TIMER_MS) {
    throw new InvalidArgumentError(
      `${name} must be a number of milliseconds from ${min} to ${MAX_TIMER_MS}, got ${describeValue(v)}` +
        (min > 0 ? '; leave it out for the default' : ''),
    );
  }
  return v;
}

/** An integer from `min` to `max`. Returns it, or undefined when `v` is undefined. */
export function checkInteger(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${describeValue(v)}`);
  }
  return v;
}

/** A `collectiveGroup` option: undefined or a non-empty string (InvalidArgumentError otherwise). */
export function checkGroupName(group: unknown, where: string): void {
  if (group === undefined || (typeof group === 'string' && group !== '')) return;
  throw new InvalidArgumentError(`${where}: collectiveGroup must be a group's name (a non-empty string), got ${JSON.stringify(group)}`);
}
