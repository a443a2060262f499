/** Codes of the errors the sink raises; they appear in logs and metrics. */
export type SinkErrorCode =
  /** A batch could not be written (database down, statement failed); the consumer retries the same messages. */
  | 'SINK.DB_WRITE_FAILED'
  /** A background job (rollups, sequence gaps, retention) failed one pass; it runs again at its next interval. */
  | 'SINK.JOB_FAILED'
  /** Start-up could not complete (migrations, topic provisioning, settings the database refused). */
  | 'SINK.STARTUP_FAILED'
  /** A series could not be created or found in the dictionary. */
  | 'SINK.SERIES_UNRESOLVED';

/** An error of the sink with a stable code; the message starts with the code. */
export class SinkError extends Error {
  constructor(
    readonly code: SinkErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.name = 'SinkError';
  }
}

/** The message of anything thrown, with the PostgreSQL SQLSTATE when there is one; for logs. */
export function describeError(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return typeof code === 'string' && !message.startsWith(code) ? `${code} ${message}` : message;
}
