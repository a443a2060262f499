/** Codes of the errors a store-and-forward spool raises. */
export type SpoolErrorCode =
  /** The log on disk is damaged before its last segment's tail (not a torn last write); the spool refuses to open. */
  | 'SPOOL.CORRUPT'
  /** An append gave up waiting for room (its `signal` aborted) while the spool was full with `onFull: 'block'`. */
  | 'SPOOL.FULL'
  /** One append (or a message, or an `appendMany` carrying `state`) is larger than a segment and can never be written. */
  | 'SPOOL.TOO_LARGE'
  /** `append`, `setState` or `flush` after `close()`, or an append still waiting for room when the spool closed. */
  | 'SPOOL.CLOSED'
  /** Writing or syncing the log failed; the spool stops taking appends (restart to recover from what is on disk). */
  | 'SPOOL.IO'
  /** Another live process (or this one) has the spool directory open. */
  | 'SPOOL.LOCKED'
  /** A state key or value that cannot be stored (empty or long key, value that is not JSON). */
  | 'SPOOL.INVALID_STATE'
  /** The directory holds a spool of a format this version cannot read, or the options are inconsistent. */
  | 'SPOOL.INCOMPATIBLE';

/** An error of the store-and-forward spool, with a code callers can branch on. */
export class SpoolError extends Error {
  constructor(
    readonly code: SpoolErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.name = 'SpoolError';
  }
}

/** True if `err` is a `SpoolError`, optionally with the given code. */
export function isSpoolError(err: unknown, code?: SpoolErrorCode): err is SpoolError {
  return err instanceof SpoolError && (code === undefined || err.code === code);
}
