import { decode, type DecodeFailure, type MessageOf, type TopicDefinition } from '@weir/contracts';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

/** Header names every DLQ message carries, next to the original message's own headers. */
export const DLQ_HEADERS = {
  /** Why it failed, as a code: `CONTRACTS.NOT_JSON`, `CONTRACTS.SCHEMA`, `CONTRACTS.EMPTY`. */
  code: 'weir-error-code',
  /** What failed, for a person: the parse error or the schema issues (at most 1000 characters). */
  reason: 'weir-error-reason',
  /** The full name of the topic the message was read from. */
  sourceTopic: 'weir-source-topic',
  /** Its partition there, as a decimal string. */
  sourcePartition: 'weir-source-partition',
  /** Its offset there, as a decimal string. */
  sourceOffset: 'weir-source-offset',
} as const;

/** The longest `weir-error-reason` header; schema reports of a large message can be long. */
export const MAX_DLQ_REASON = 1000;

const DLQ_HEADER_NAMES = new Set<string>(Object.values(DLQ_HEADERS));

/** Where a message was read from. */
export interface SourcePosition {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * The headers of a DLQ message: the original headers (byte for byte) plus the
 * reason and where the message came from; DLQ headers the original already
 * carried (a message replayed from a DLQ) are replaced, not repeated.
 */
export function buildDlqHeaders(original: IHeaders | undefined, failure: Pick<DecodeFailure, 'code' | 'reason'>, source: SourcePosition): IHeaders {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(original ?? {})) {
    if (value !== undefined && !DLQ_HEADER_NAMES.has(name)) headers[name] = value;
  }
  const reason = failure.reason.length > MAX_DLQ_REASON ? `${failure.reason.slice(0, MAX_DLQ_REASON - 1)}…` : failure.reason;
  headers[DLQ_HEADERS.code] = failure.code;
  headers[DLQ_HEADERS.reason] = reason;
  headers[DLQ_HEADERS.sourceTopic] = source.topic;
  headers[DLQ_HEADERS.sourcePartition] = String(source.partition);
  headers[DLQ_HEADERS.sourceOffset] = source.offset;
  return headers;
}

/** Message headers as text, as handlers see them; a header sent several times becomes an array. */
export type ConsumedHeaders = Readonly<Record<string, string | string[]>>;

const NO_HEADERS: ConsumedHeaders = Object.freeze({});

/** Decodes kafkajs headers (Buffers) to UTF-8 strings. */
export function headersToStrings(headers: IHeaders | undefined): ConsumedHeaders {
  if (!headers) return NO_HEADERS;
  let out: Record<string, string | string[]> | undefined;
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined) continue;
    out ??= {};
    out[name] = Array.isArray(v) ? v.map((x) => x.toString()) : v.toString();
  }
  return out ?? NO_HEADERS;
}

/** One message handed to a handler: the validated value and where it came from. */
export interface ConsumedMessage<T> {
  /** The decoded, validated message; `null` only for a tombstone (deletion) on a compacted topic. */
  value: T | null;
  /** The message key as UTF-8, or null if it had none. */
  key: string | null;
  partition: number;
  /** Kafka offset, a decimal string (offsets are 64-bit). */
  offset: string;
  /** Kafka timestamp in ms since the epoch (create time unless the topic is set to log-append time). */
  timestamp: number;
  headers: ConsumedHeaders;
  /**
   * The value's bytes, when they are exactly the JSON of `value` (the topic's fast check vouched for
   * it: no key stripped, no default filled): a transform may splice them into its output instead of
   * serialising `value` again. Absent otherwise.
   */
  json?: Buffer;
}

/** A message that failed validation, ready to be written to the DLQ. */
export interface DeadLetter {
  /** The original key, value and headers plus the `weir-*` headers. */
  message: Message;
  code: DecodeFailure['code'];
  offset: string;
}

/** The messages of one fetched batch, split into those for the handler and those for the DLQ. */
export interface DecodedBatch<T> {
  valid: ConsumedMessage<T>[];
  invalid: DeadLetter[];
}

/** Decodes and validates the messages of one partition batch, in offset order. */
export function decodeBatch<D extends TopicDefinition>(def: D, topic: string, partition: number, messages: readonly KafkaMessage[]): DecodedBatch<MessageOf<D>> {
  const valid: ConsumedMessage<MessageOf<D>>[] = [];
  const invalid: DeadLetter[] = [];
  for (const m of messages) {
    const result = decode(def, m.value);
    if (result.ok) {
      const consumed: ConsumedMessage<MessageOf<D>> = { value: result.value, key: m.key ? m.key.toString() : null, partition, offset: m.offset, timestamp: Number(m.timestamp), headers: headersToStrings(m.headers) };
      if ('exact' in result && result.exact && m.value) consumed.json = m.value;
      valid.push(consumed);
    } else {
      invalid.push({
        message: { key: m.key, value: m.value, headers: buildDlqHeaders(m.headers, result, { topic, partition, offset: m.offset }) },
        code: result.code,
        offset: m.offset,
      });
    }
  }
  return { valid, invalid };
}
