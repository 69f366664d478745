import 'reflect-metadata';
import { injectable } from 'tsyringe';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Where tensorwire reports what users should know (warnings) and what helps debugging. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Logs to stderr at or above `TENSORWIRE_LOG` (default 'warn'). */
@injectable()
export class ConsoleLogger implements Logger {
  private readonly min: number;
  constructor(level: LogLevel = (process.env.TENSORWIRE_LOG as LogLevel) || 'warn') {
    this.min = ORDER[level] ?? ORDER.warn;
  }
  private log(level: LogLevel, message: string): void {
    if (ORDER[level] >= this.min) process.stderr.write(`[tensorwire ${level}] ${message}\n`);
  }
  debug(m: string): void { this.log('debug', m); }
  info(m: string): void { this.log('info', m); }
  warn(m: string): void { this.log('warn', m); }
  error(m: string): void { this.log('error', m); }
}

/** Time source; injectable so deadlines can be tested without waiting. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
