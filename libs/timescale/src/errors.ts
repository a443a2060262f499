/** Every error code this library raises; `MIGRATIONS.*` stop a migration run, `COPY.*` a write, `DATABASE.*` set-up, `RETENTION.*` a retention or chunk setting. */
export type TimescaleErrorCode =
  | 'DATABASE.BAD_IDENTIFIER'
  | 'DATABASE.SSL_CA_UNREADABLE'
  | 'COPY.ROW_LENGTH'
  | 'COPY.UNSUPPORTED_VALUE'
  | 'MIGRATIONS.DIR_NOT_FOUND'
  | 'MIGRATIONS.BAD_FILE_NAME'
  | 'MIGRATIONS.DUPLICATE_VERSION'
  | 'MIGRATIONS.VARIANT_MISMATCH'
  | 'MIGRATIONS.VERSION_GAP'
  | 'MIGRATIONS.NO_TIMESCALEDB'
  | 'MIGRATIONS.LOCK_TIMEOUT'
  | 'MIGRATIONS.CHECKSUM_MISMATCH'
  | 'MIGRATIONS.UNKNOWN_VERSION'
  | 'MIGRATIONS.OUT_OF_ORDER'
  | 'MIGRATIONS.FAILED'
  | 'RETENTION.BAD_SETTING'
  | 'RETENTION.UNKNOWN_HYPERTABLE';

/** An error of this library; `code` is stable, the message (which starts with the code) is for people. */
export class TimescaleError extends Error {
  constructor(
    readonly code: TimescaleErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.name = 'TimescaleError';
  }
}

/** True when `err` is a TimescaleError with the given code. */
export function isTimescaleError(err: unknown, code?: TimescaleErrorCode): err is TimescaleError {
  return err instanceof TimescaleError && (code === undefined || err.code === code);
}
