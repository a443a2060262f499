/** Codes of what it-events reports: in logs, metrics, HTTP answers and the `unmapped.reason_code` of class-0 events. */
export type ItEventsErrorCode =
  /** A TCP/TLS frame is longer than `syslog.maxFrameBytes`; its first bytes are kept as a class-0 event, the rest skipped. */
  | 'IT_EVENTS.FRAME_TOO_LARGE'
  /** The byte stream on a TCP/TLS connection is not syslog framing (bad octet count, binary data); the connection is closed. */
  | 'IT_EVENTS.FRAMING_LOST'
  /** A connection ended in the middle of an octet-counted frame; the partial frame is kept as a class-0 event. */
  | 'IT_EVENTS.INCOMPLETE_FRAME'
  /** A frame or datagram has no valid syslog header (RFC 5424 or RFC 3164). */
  | 'IT_EVENTS.BAD_SYSLOG_HEADER'
  /** No parser recognises the message (app-name and content). */
  | 'IT_EVENTS.NO_PARSER'
  /** A parser recognised the source but not this line. */
  | 'IT_EVENTS.UNRECOGNISED_LINE'
  /** A JSON document is neither OCSF nor an ECS event we map. */
  | 'IT_EVENTS.UNMAPPED_JSON'
  /** A JSON document claims to be OCSF but does not validate. */
  | 'IT_EVENTS.INVALID_OCSF'
  /** A line of an NDJSON body or a syslog message body that looked like JSON is not JSON. */
  | 'IT_EVENTS.NOT_JSON'
  /** A normalised event failed the topic schema (a parser bug); kept as a class-0 event. */
  | 'IT_EVENTS.SCHEMA'
  /** A UDP datagram was dropped because the publish buffer was full (UDP cannot push back). */
  | 'IT_EVENTS.BUFFER_FULL'
  /** Kafka did not acknowledge an event; syslog events are retried, HTTP requests answered 503. */
  | 'IT_EVENTS.PUBLISH_FAILED'
  /** An HTTP request was refused (method, path, content type, size, JSON, token). */
  | 'IT_EVENTS.BAD_REQUEST'
  /** A TLS certificate or key file cannot be read. */
  | 'IT_EVENTS.TLS_FILE_UNREADABLE'
  /** A bug: an HTTP request failed in a way not listed here (answered 500, logged). */
  | 'IT_EVENTS.UNEXPECTED';

/** An error of it-events with a code callers and metrics can branch on. */
export class ItEventsError extends Error {
  constructor(
    readonly code: ItEventsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.name = 'ItEventsError';
  }
}

/** The message of anything thrown, for logs. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
