import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { Availability } from '@tensorwire/core';

/** Run the transport's probe() in a child process and wait for it (see probe-main.ts). */
export function probeInChild(modulePath: string, name: string, timeoutMs = 60_000): Availability {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'probe-main.js'), modulePath, name], {
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('@@probe '));
  if (line) return JSON.parse(line.slice('@@probe '.length)) as Availability;
  const how = r.error ? r.error.message : r.signal ? `signal ${r.signal}` : `exit code ${r.status}`;
  return {
    available: false,
    detail: `probe() crashed its process (${how}): ${(r.stderr ?? '').trim().split('\n').slice(-5).join(' | ')}`,
  };
}
