/** Codes of the errors erp-sync raises; they appear in messages, logs and the error metric. */
export type ErpErrorCode =
  /** The OData service answered with an error status; the message names service, entity set, status and the OData error code/message. */
  | 'ERP.ODATA_ERROR'
  /** The OData service could not be reached (connection refused, reset, DNS, timeout). */
  | 'ERP.NETWORK_ERROR'
  /** Authentication failed: the token endpoint refused the client, or the service answered 401/403 with fresh credentials. */
  | 'ERP.AUTH_FAILED'
  /** The service answered 2xx with something that is not OData v2 JSON (`{"d":{"results":[...]}}`). */
  | 'ERP.BAD_RESPONSE'
  /** An ERP record could not be turned into a message (no key, no change time); it is skipped and counted. */
  | 'ERP.MAPPING_FAILED'
  /** A dropped CSV/JSON file has errors; it is moved to failed/ with the list (file and line). */
  | 'ERP.FILE_INVALID'
  /** The state file (checkpoints, published ids) cannot be read or written. */
  | 'ERP.STATE_FAILED'
  /** Publishing to Kafka failed; the checkpoint did not move, the poll is repeated. */
  | 'ERP.PUBLISH_FAILED';

/** An error of erp-sync with a code callers and metrics can branch on. */
export class ErpSyncError extends Error {
  constructor(
    readonly code: ErpErrorCode,
    message: string,
    readonly details: { status?: number; retryable?: boolean; odataCode?: string; retryAfterMs?: number } = {},
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.name = 'ErpSyncError';
  }
}

/** True if `err` is an `ErpSyncError`, optionally with the given code. */
export function isErpSyncError(err: unknown, code?: ErpErrorCode): err is ErpSyncError {
  return err instanceof ErpSyncError && (code === undefined || err.code === code);
}

/** The code of any error for the error metric: its own code, or `ERP.UNEXPECTED`. */
export function errorCode(err: unknown): string {
  if (err instanceof ErpSyncError) return err.code;
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Z]+\.[A-Z_]+$/.test(code) ? code : 'ERP.UNEXPECTED';
}

/** The message of anything thrown, for logs. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
