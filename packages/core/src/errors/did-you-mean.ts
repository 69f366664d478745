/**
 * "Did you mean ...?" for names users type (transports, packages): the candidate a typo most
 * likely stands for, or none when nothing is close enough to be worth suggesting.
 */

/**
 * Edits (insert, delete, substitute, swap two neighbours) between `a` and `b`, ignoring case:
 * 'Gloo' and 'gloo' are 0 apart, 'glo' and 'gloo' 1, 'nilx' and 'nixl' 1.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  // d[i][j]: distance between s[0..i) and t[0..j) (optimal string alignment).
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [i, ...new Array<number>(t.length).fill(0)]);
  for (let j = 1; j <= t.length; j++) d[0]![j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[s.length]![t.length]!;
}

/** Edits a typo of a name this long may have: one for short names (where two edits reach unrelated words), two for longer ones. */
function allowedEdits(candidate: string): number {
  return candidate.length <= 4 ? 1 : 2;
}

/** Whether `name` is `candidate` plus a suffix that starts a new part ('gloo2', 'nixl-ib'): a variant, not a typo. */
function isVariantOf(name: string, candidate: string): boolean {
  return name.length > candidate.length && name.toLowerCase().startsWith(candidate.toLowerCase()) && !/[a-z]/i.test(name[candidate.length]!);
}

/**
 * The candidate that `name` is most likely a typo of, or undefined. A name that equals a
 * candidate exactly is no typo; nor is a variant of one ('gloo2', 'nixl-ib': another transport).
 */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const c of new Set(candidates)) {
    if (c === name) return undefined;
    if (isVariantOf(name, c)) continue;
    const distance = editDistance(name, c);
    if (distance > allowedEdits(c)) continue;
    if (!best || distance < best.distance) best = { name: c, distance };
  }
  return best?.name;
}
