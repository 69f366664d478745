/** A target evaluated from one run's figures, and the table that prints targets with met / not met. */

export interface TargetResult {
  /** What is required, e.g. "gloo GPU object >= 90% of bare gloo at 64 MiB". */
  target: string;
  /** The measured ratio and the figures it comes from, or why it was not measured. */
  value: string;
  /** undefined: not measured in this run. */
  met: boolean | undefined;
}

export function verdict(met: boolean | undefined): string {
  return met === undefined ? 'not measured' : met ? 'met' : 'not met';
}

export function targetsTable(ts: readonly TargetResult[]): string {
  return ['| target | measured | |', '|---|---|---|', ...ts.map((t) => `| ${t.target} | ${t.value} | ${verdict(t.met)} |`)].join('\n');
}
