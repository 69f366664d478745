/** Rejections are logged at most once per interval, with the count of those not logged. */
import test from 'ava';
import { RateLimitedLog } from './rate-limited-log';
import { MemoryLogger } from '../test/fixtures/test-peer';

test('one line per interval; the suppressed ones are counted on the next line and on flush', (t) => {
  let now = 1_000;
  const logger = new MemoryLogger();
  const log = new RateLimitedLog(logger, 5_000, { now: () => now });
  for (let i = 0; i < 100; i++) log.warn(`rejected #${i}`);
  t.deepEqual(logger.lines, ['warn rejected #0']);
  now += 5_000;
  log.warn('rejected #100');
  t.is(logger.lines[1], 'warn rejected #100 (and 99 more since the previous report, not logged one by one)');
  log.warn('rejected #101');
  log.flush('shutting down');
  t.is(logger.lines[2], 'warn shutting down (and 1 more since the previous report, not logged one by one)');
  log.flush('nothing new');
  t.is(logger.lines.length, 3);
});
