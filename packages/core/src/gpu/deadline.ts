/** The deadline every tensor transfer has (RuntimeOptions.transferTimeoutMs). */

/** `p`, or a rejection saying that `what` missed its deadline of `ms` milliseconds. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms (transfer deadline)`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
