/**
 * Assertions that stay on in production (TigerStyle): a broken assumption stops the run loudly
 * instead of corrupting protocol state silently. Expected faults (lost messages, crashed peers)
 * are ordinary values and never go through here.
 */
export class InvariantError extends Error {
  override name = 'InvariantError';
}

/** Throws an {@link InvariantError} with `message` when `condition` is false. */
export function invariant(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new InvariantError(typeof message === 'string' ? message : message());
  }
}

/**
 * A user mistake (bad flag, region, file or configuration). Hosts print its message as one line
 * and exit with code 2, without a stack trace.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}
