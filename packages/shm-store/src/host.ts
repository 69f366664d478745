/**
 * Where this process can read arena files: the kernel's boot id (one host) and the device of
 * the store's directory (one /dev/shm: containers or mount namespaces on one host may each
 * have their own). Two processes with equal keys open the same files.
 */
import * as fs from 'node:fs';
import { storeDir } from './names';

let cached: string | undefined;

export function hostKey(): string {
  if (cached === undefined) {
    let boot = 'unknown-boot';
    try {
      boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      // not Linux: the directory's device alone (still one machine's tmpfs)
    }
    const st = fs.statSync(storeDir());
    cached = `${boot}/${st.dev}:${st.ino}`;
  }
  return cached;
}
