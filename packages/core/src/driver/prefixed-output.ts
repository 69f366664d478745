/**
 * Forwards a process's output line by line, each line prefixed, e.g. `(Worker pid=123) `, as
 * Ray does for actors: prints of many actors stay attributable, and a line is written in one
 * piece, so lines of two actors never mix. Works on bytes (a newline byte never occurs inside
 * a UTF-8 character, so multi-byte characters split across chunks pass through intact).
 */

/** Longest partial line held back waiting for its newline; longer ones are written in pieces. */
export const MAX_HELD_LINE_BYTES = 64 * 1024;

const NEWLINE = 0x0a;

export class PrefixedOutput {
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** The start of the current line (and its prefix) was already written: a long line in pieces. */
  private midLine = false;
  private readonly prefix: Buffer;

  constructor(
    prefix: string,
    private readonly write: (bytes: Buffer) => void,
    private readonly maxHeldBytes = MAX_HELD_LINE_BYTES,
  ) {
    this.prefix = Buffer.from(prefix);
  }

  /** Forward what the process wrote; a partial last line is held until its newline or {@link end}. */
  push(chunk: Buffer): void {
    const parts: Buffer[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      if (!this.midLine) parts.push(this.prefix);
      parts.push(...this.held, chunk.subarray(start, nl + 1));
      this.held = [];
      this.heldBytes = 0;
      this.midLine = false;
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.held.push(chunk.subarray(start));
      this.heldBytes += chunk.length - start;
      if (this.heldBytes > this.maxHeldBytes) {
        // A very long line (or output that never ends its line): bound the memory held.
        if (!this.midLine) parts.push(this.prefix);
        parts.push(...this.held);
        this.held = [];
        this.heldBytes = 0;
        this.midLine = true;
      }
    }
    if (parts.length) this.write(Buffer.concat(parts));
  }

  /** The stream ended: a held partial line is written, with the newline it lacked. */
  end(): void {
    if (this.heldBytes === 0 && !this.midLine) return;
    this.write(Buffer.concat([...(this.midLine ? [] : [this.prefix]), ...this.held, Buffer.from('\n')]));
    this.held = [];
    this.heldBytes = 0;
    this.midLine = false;
  }
}

/** The prefix of an actor's output lines, as Ray writes it. */
export function actorOutputPrefix(label: string, pid: number | undefined): string {
  return `(${label} pid=${pid ?? '?'}) `;
}
