/** Codes of the errors this lib raises; they appear in messages, logs and DLQ headers. */
export type KafkaErrorCode =
  /** A batch was not acknowledged by Kafka; every message in it failed. It may still have been written. */
  | 'KAFKA.SEND_FAILED'
  /** A message failed its topic's schema before it was sent (a producer bug). */
  | 'KAFKA.INVALID_MESSAGE'
  /** `send` was called after `close()`. */
  | 'KAFKA.PRODUCER_CLOSED'
  /** A TLS certificate or key file named in the settings cannot be read. */
  | 'KAFKA.TLS_FILE_UNREADABLE'
  /** Creating or describing topics failed. */
  | 'KAFKA.PROVISIONING_FAILED'
  /** A consume-transform-produce transaction was aborted; its batch is consumed again. */
  | 'KAFKA.TRANSACTION_ABORTED'
  /** The consumer was used in a state that does not allow it (started twice, started after stop). */
  | 'KAFKA.CONSUMER_STATE';

/** An error of the Kafka runtime, with a code callers can branch on. */
export class KafkaError extends Error {
  constructor(
    readonly code: KafkaErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.name = 'KafkaError';
  }
}

/** True if `err` is a `KafkaError`, optionally with the given code. */
export function isKafkaError(err: unknown, code?: KafkaErrorCode): err is KafkaError {
  return err instanceof KafkaError && (code === undefined || err.code === code);
}

/** The message of anything thrown, for logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
