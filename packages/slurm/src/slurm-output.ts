/**
 * What srun prints besides the actor's own output: srun and slurmstepd lines. Those that say
 * why a step failed or ended are kept as the actor's death reason; srun's verbose lines
 * (`-v`, which the launcher asks for) tell the step id and the node.
 */

/** Splits a stream into lines (a last line without a newline comes out at `end`). */
export class LineSplitter {
  private rest = '';
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = this.rest + chunk.toString();
    const lines = text.split('\n');
    this.rest = lines.pop()!;
    for (const l of lines) this.onLine(l);
  }

  end(): void {
    if (this.rest) this.onLine(this.rest);
    this.rest = '';
  }
}

/** What one line is. */
export type SlurmLine =
  | { kind: 'launched'; stepId: string; node: string }
  | { kind: 'reason'; text: string }
  | { kind: 'slurm' }
  | { kind: 'actor' };

const LAUNCHING = /^srun: launching StepId=(\S+) on host (\S+?),/;
const FROM_SLURM = /^(srun|slurmstepd)(\[\d+\])?: /;
/** Slurm lines that say why a step failed to start, was cancelled or ended badly. */
const REASON = /\b(error|CANCELLED|Terminated|Unable|Killed|retrying|disabled|failure|DUE TO)\b/i;

export function classifyLine(line: string): SlurmLine {
  const m = LAUNCHING.exec(line);
  if (m) return { kind: 'launched', stepId: m[1]!, node: m[2]! };
  if (!FROM_SLURM.test(line)) return { kind: 'actor' };
  return REASON.test(line) ? { kind: 'reason', text: line.trim() } : { kind: 'slurm' };
}

/** The death reason from the reasons collected (the last few, most recent last). */
export function deathReason(reasons: readonly string[]): string | undefined {
  if (reasons.length === 0) return undefined;
  return `Slurm: ${reasons.slice(-3).join('; ')}`;
}
