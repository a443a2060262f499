/** Codes of the errors the historian connector raises or counts; they appear in messages, logs and the `code` label of metrics. */
export type HistorianErrorCode =
  /** A CSV/TSV row cannot be used (wrong column count, unparsable time, value of the wrong type, unknown quality); skipped, reported with file and line. */
  | 'HISTORIAN.BAD_ROW'
  /** A CSV/TSV file cannot be read at all (no header, missing columns, broken gzip); reported with the file, the rest of the folder goes on. */
  | 'HISTORIAN.BAD_FILE'
  /** A historian value cannot be turned into a sample (wrong type, bad timestamp); skipped, reported with the request. */
  | 'HISTORIAN.BAD_VALUE'
  /** PI Web API answered with an error status or an error body (`{"Errors":[...]}`); the message names the request. */
  | 'HISTORIAN.PI_ERROR'
  /** PI Web API answered 2xx with something that is not its documented JSON. */
  | 'HISTORIAN.PI_BAD_RESPONSE'
  /** The historian could not be reached (connection refused, TLS, timeout). */
  | 'HISTORIAN.UNREACHABLE'
  /** An OPC UA HistoryRead failed for a node (Bad status) or as a whole. */
  | 'HISTORIAN.HISTORY_READ_FAILED'
  /** The settings are inconsistent in a way the schema cannot see (a job naming an unknown source, two sources with one id). */
  | 'HISTORIAN.CONFIG';

/** An error of the historian connector with a code. */
export class HistorianError extends Error {
  constructor(
    readonly code: HistorianErrorCode,
    message: string,
    readonly details: { status?: number; retryable?: boolean } = {},
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.name = 'HistorianError';
  }
}

/** The code of an error, when it has one. */
export function errorCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : 'UNKNOWN';
}
