/**
 * Every error tensorwire throws on purpose. Each message names the problem and the fix.
 * All extend {@link TensorwireError} so callers can catch the family at once.
 */
import { didYouMean } from './did-you-mean';

/** Base class of all tensorwire errors. `code` is a stable machine-readable identifier. */
export class TensorwireError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An actor process died (crash, `process.exit`, signal, `kill`). Pending and later calls fail with it. */
export class ActorDiedError extends TensorwireError {
  constructor(
    readonly actorName: string,
    readonly exitCode: number | null,
    readonly signal: string | null,
    detail?: string,
  ) {
    const how = signal ? `signal ${signal}` : exitCode !== null ? `exit code ${exitCode}` : 'an unknown cause';
    super(
      'ACTOR_DIED',
      `actor ${actorName} died (${how})${detail ? `: ${detail}` : ''}. ` +
        'Its pending and later calls fail; spawn a new actor to continue.',
    );
  }
}

/** The remote method threw. `cause` carries the remote error (message and remote stack). */
export class TaskError extends TensorwireError {
  constructor(
    readonly actorName: string,
    readonly methodName: string,
    readonly remoteName: string,
    readonly remoteMessage: string,
    readonly remoteStack: string | undefined,
  ) {
    const cause = new Error(remoteMessage);
    cause.name = remoteName;
    if (remoteStack) cause.stack = remoteStack;
    super('TASK_FAILED', `${actorName}.${methodName}() threw ${remoteName}: ${remoteMessage}`, { cause });
  }
}

/** A tensor transfer failed: peer died, timed out, or the transport reported an error. */
export class TransferError extends TensorwireError {
  constructor(message: string, readonly details: Readonly<Record<string, unknown>> = {}, options?: { cause?: unknown }) {
    super('TRANSFER_FAILED', message, options);
  }
}

/** The named transport is installed but cannot run here (library or device missing). */
export class TransportUnavailableError extends TensorwireError {
  constructor(readonly transport: string, detail: string, fix?: string) {
    super('TRANSPORT_UNAVAILABLE', `tensor transport '${transport}' is not available here: ${detail}${fix ? `. Fix: ${fix}` : ''}`);
  }
}

/**
 * A device ('cuda') cannot be used here: no backend registered, no driver, no device. A
 * TransportUnavailableError (same `code`, so existing handlers catch it) whose message names the
 * device rather than a transport, what is missing and the fix.
 *
 * @example
 * ```ts
 * try { Tensor.ones([2]).cuda(); } catch (e) { if (e instanceof DeviceUnavailableError) console.log(e.fix); }
 * ```
 */
export class DeviceUnavailableError extends TransportUnavailableError {
  constructor(readonly device: string, readonly detail: string, readonly fix?: string) {
    super(device, detail, fix);
    this.message = `${device === 'cuda' ? 'CUDA' : device} is not available here: ${detail}${fix ? `. Fix: ${fix}` : ''}`;
  }
}

/**
 * Transport packages published by this project, for install hints only (core never loads
 * them by name). A third-party name gets no `npm install` suggestion: we cannot know its package.
 */
export const PUBLISHED_TRANSPORT_PACKAGES: Readonly<Record<string, string>> = Object.freeze({ gloo: '@tensorwire/gloo', nccl: '@tensorwire/nccl', nixl: '@tensorwire/nixl' });

/**
 * Transport names this project knows of, for "did you mean" hints: its own packages and
 * 'object-store'.
 */
export const KNOWN_TRANSPORT_NAMES: readonly string[] = Object.freeze(['gloo', 'nixl', 'nccl', 'object-store']);

function publishedPackage(transport: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(PUBLISHED_TRANSPORT_PACKAGES, transport) ? PUBLISHED_TRANSPORT_PACKAGES[transport] : undefined;
}

/** What to do to get `transport` (a name the user meant): install, import, or nothing to install. */
function howToGet(transport: string, installed: readonly string[]): string {
  if (transport === 'object-store' || installed.includes(transport)) return '';
  const pkg = publishedPackage(transport);
  if (pkg) return `Install and import its package: \`npm install ${pkg}\` and \`import '${pkg}'\`.`;
  if (KNOWN_TRANSPORT_NAMES.includes(transport)) {
    return `No '${transport}' transport is published yet: use one that is (${Object.keys(PUBLISHED_TRANSPORT_PACKAGES).map((n) => `'${n}'`).join(', ')}), ` +
      `or import a package that registers '${transport}'.`;
  }
  return `Import the package that provides '${transport}' before using it (a transport registers itself when imported).`;
}

/** The named transport is not registered in this process (or cannot be: a typo names the likely intended one). */
export class InvalidTransportError extends TensorwireError {
  /** The registered or known name that `transport` most likely misspells, if any. */
  readonly suggestion: string | undefined;
  /** `where`: what used the name, e.g. "sender.weights.remote()", to start the message with. */
  constructor(readonly transport: string, readonly installed: readonly string[], where?: string) {
    const suggestion = didYouMean(transport, [...installed, ...KNOWN_TRANSPORT_NAMES]);
    const intended = suggestion ?? transport;
    super(
      'INVALID_TRANSPORT',
      [
        `${where ? `${where}: ` : ''}unknown tensor transport '${transport}'${suggestion ? `: did you mean '${suggestion}'?` : '.'}`,
        `Installed: ${installed.length ? installed.join(', ') : '(none)'} (plus 'object-store').`,
        howToGet(intended, installed),
      ].filter(Boolean).join(' '),
    );
    this.suggestion = suggestion;
  }
}

/** Creating, using or destroying a collective group failed, or actors lack a common group. */
export class CollectiveGroupError extends TensorwireError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('COLLECTIVE_GROUP', message, options);
  }
}

/**
 * Two actors share several collective groups of a transport and nothing said which one a
 * transfer between them uses. `groups` lists the ones that qualify; name one with
 * `.options({ collectiveGroup })` on the call, or `@method({ collectiveGroup })`.
 */
export class AmbiguousCollectiveGroupError extends CollectiveGroupError {
  constructor(message: string, readonly groups: readonly string[]) {
    super(message);
    (this as { code: string }).code = 'COLLECTIVE_GROUP_AMBIGUOUS';
  }
}

/** `get` did not resolve within `timeoutMs`. The object is not lost; `get` it again later. */
export class GetTimeoutError extends TensorwireError {
  constructor(readonly timeoutMs: number, readonly pending: number) {
    super('GET_TIMEOUT', `get timed out after ${timeoutMs} ms with ${pending} object(s) not ready; call get again or raise timeoutMs`);
  }
}

/** Bad arguments to a tensorwire API (wrong type, unknown method, unserializable value...). */
export class InvalidArgumentError extends TensorwireError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/**
 * `get(ref, { into })`: the tensors given do not match the object's (count, dtype, shape or
 * device). `mismatch` names the first difference, e.g. `tensor 2: shape [4, 4] vs [4, 8]`.
 */
export class IntoMismatchError extends InvalidArgumentError {
  constructor(message: string, readonly mismatch: string) {
    super(message);
    (this as { code: string }).code = 'INTO_MISMATCH';
  }
}

/** The object was freed (or its owner died) and can no longer be fetched. */
export class ObjectLostError extends TensorwireError {
  constructor(readonly objectId: string, reason: string) {
    super('OBJECT_LOST', `object ${objectId} is no longer available: ${reason}`);
  }
}

/** The runtime is not initialized, or was shut down. */
export class RuntimeStateError extends TensorwireError {
  constructor(message: string) {
    super('RUNTIME_STATE', message);
  }
}
