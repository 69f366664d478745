/**
 * Entry point of an actor process started by a launcher on the driver's host: joins the driver
 * with what the launcher put in the environment (see ./join-driver). Launchers on other hosts
 * may run `tensorwire worker` instead (cli/worker-command.ts), which does the same.
 */
import 'reflect-metadata';
import { JoinConfigError, joinDriver, joinParams } from './join-driver';

try {
  joinDriver(joinParams(process.env));
} catch (err) {
  if (!(err instanceof JoinConfigError)) throw err;
  process.stderr.write(`tensorwire actor process: ${err.message}; exiting\n`);
  process.exit(2);
}
