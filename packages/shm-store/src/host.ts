/**
 * Where this process can read arena files: the kernel's boot id (one host), the device of the
 * store's directory (one /dev/shm: containers or mount namespaces on one host may each have
 * their own) and the host name. Two processes with equal keys open the same files. The host
 * name keeps simulated hosts apart: the Slurm test cluster's nodes (and the benchmarks' "2
 * hosts" rows) are namespaces of one machine that share /dev/shm, and should behave as the
 * separate hosts they stand for (values inline through the driver).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
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
    cached = `${boot}/${st.dev}:${st.ino}/${os.hostname()}`;
  }
  return cached;
}
