/** Codes of the errors this lib raises; they appear in messages and logs. */
export type OpcuaErrorCode =
  /** A service that changes the server (Write, Call, HistoryUpdate, node management, ...) was attempted; nothing was sent. */
  | 'OPCUA.WRITE_REFUSED'
  /** A node-set file (our YAML or publishednodes.json) is invalid; the message names the file, entry and field. */
  | 'OPCUA.NODESET_INVALID'
  /** The server presented a certificate that is not in the trust list. */
  | 'OPCUA.SERVER_CERTIFICATE_UNTRUSTED'
  /** Connecting or opening the session failed. */
  | 'OPCUA.CONNECT_FAILED'
  /** The endpoint does not offer the configured security mode and policy. */
  | 'OPCUA.ENDPOINT_NOT_FOUND'
  /** The client certificate or key, or a user certificate, cannot be read or created. */
  | 'OPCUA.CERTIFICATE'
  /** A browse, read or history read failed as a whole. */
  | 'OPCUA.SERVICE_FAILED';

/** An error of the OPC UA lib, with a code callers can branch on. */
export class OpcuaError extends Error {
  constructor(
    readonly code: OpcuaErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.name = 'OpcuaError';
  }
}

/** True if `err` is an `OpcuaError`, optionally with the given code. */
export function isOpcuaError(err: unknown, code?: OpcuaErrorCode): err is OpcuaError {
  return err instanceof OpcuaError && (code === undefined || err.code === code);
}

/** The message of anything thrown, for logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
