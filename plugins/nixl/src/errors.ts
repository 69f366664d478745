/** Error raised by the nixl transport; `code` is stable and machine-readable. */
export class NixlError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'NixlError';
    this.code = code;
  }
}
