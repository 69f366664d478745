/**
 * Why the control plane could not listen, as tensorwire errors that name the address and the
 * fix (instead of Node's bare EADDRINUSE / ENOTFOUND / EACCES).
 */
import { InvalidArgumentError, RuntimeStateError, type TensorwireError } from '../errors/errors';

/** A listen error on `where` (host:port or a socket path); `host` when listening on TCP. */
export function listenError(err: NodeJS.ErrnoException, where: string, host?: string): TensorwireError {
  const cannot = `the control plane cannot listen on ${where}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new RuntimeStateError(
        `${cannot}: the address is already in use (EADDRINUSE). Pass a free port with init({ port }), or port 0 (the default) to let the system pick one`,
      );
    case 'EACCES':
    case 'EPERM':
      return new RuntimeStateError(
        host !== undefined
          ? `${cannot}: permission denied (${err.code}). Ports below 1024 need privileges: use a port of 1024 or more, or 0 for any free port`
          : `${cannot}: permission denied (${err.code}). Set TMPDIR to a directory this user can write`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return new InvalidArgumentError(
        `${cannot}: the host '${host}' does not resolve (${err.code}). Pass an address of this machine, ` +
          "e.g. init({ host: '127.0.0.1' }), or '0.0.0.0' to accept actors from other hosts",
      );
    case 'EADDRNOTAVAIL':
      return new InvalidArgumentError(
        `${cannot}: '${host ?? where}' is not an address of this machine (EADDRNOTAVAIL). ` +
          "Pass one of its addresses, e.g. init({ host: '127.0.0.1' }), or '0.0.0.0' for all of them",
      );
    case 'ERR_SOCKET_BAD_PORT':
      return new InvalidArgumentError(`${cannot}: ${err.message}. Pass an integer port from 0 to 65535 (0: any free port)`);
    default:
      return new RuntimeStateError(`${cannot}: ${err.message}${err.code ? ` (${err.code})` : ''}`);
  }
}

/** The private directory for the Unix socket could not be made under `tmp`. */
export function socketDirError(err: NodeJS.ErrnoException, tmp: string): RuntimeStateError {
  return new RuntimeStateError(
    `cannot create the control plane's socket directory under ${tmp}: ${err.message}. ` +
      "Set TMPDIR to a writable directory, or listen on TCP with init({ host: '127.0.0.1' })",
  );
}
