import type { z } from 'zod';
import type { MessageOf, TopicDefinition } from './topic';

/** Why a message could not be decoded; travels in the DLQ headers. */
export type DecodeErrorCode = 'CONTRACTS.EMPTY' | 'CONTRACTS.NOT_JSON' | 'CONTRACTS.SCHEMA';

/** A message that failed to decode, with a code and a reason a person can act on. */
export interface DecodeFailure {
  ok: false;
  code: DecodeErrorCode;
  reason: string;
}

/** The result of decoding one Kafka message value. */
/**
 * What `decode` returns. `exact` is true when the topic's fast check vouched for the parsed JSON: the
 * value's bytes are then a serialisation of exactly `value` (nothing stripped or filled in), so they can
 * be reused as its JSON.
 */
export type DecodeResult<T> = { ok: true; value: T; exact?: boolean } | { ok: true; value: null; tombstone: true } | DecodeFailure;

/** Serialises a message for `topic` after validating it; throws on an invalid message (a producer bug). */
export function encode<T extends TopicDefinition>(topic: T, message: MessageOf<T>): Buffer {
  // A message the topic's fast check vouches for is exactly what the schema would return.
  if (topic.accepts?.(message)) return Buffer.from(JSON.stringify(message));
  const parsed = topic.schema.safeParse(message);
  if (!parsed.success) {
    throw new Error(`CONTRACTS.SCHEMA: refusing to produce an invalid ${topic.name} message: ${formatIssues(parsed.error)}`);
  }
  return Buffer.from(JSON.stringify(parsed.data));
}

/**
 * Decodes and validates one message value. A null value is a tombstone on a
 * compacted topic (a deletion) and an error elsewhere.
 */
export function decode<T extends TopicDefinition>(topic: T, value: Buffer | string | null | undefined): DecodeResult<MessageOf<T>> {
  if (value === null || value === undefined || value.length === 0) {
    if (topic.cleanupPolicy === 'compact' && (value === null || value === undefined)) return { ok: true, value: null, tombstone: true };
    return { ok: false, code: 'CONTRACTS.EMPTY', reason: 'message has no value' };
  }
  let json: unknown;
  try {
    json = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (err) {
    return { ok: false, code: 'CONTRACTS.NOT_JSON', reason: `not JSON: ${(err as Error).message}` };
  }
  // The common case of a hot topic: a value its fast check vouches for is what the schema would return.
  if (topic.accepts?.(json)) return { ok: true, value: json as MessageOf<T>, exact: true };
  const parsed = topic.schema.safeParse(json);
  if (!parsed.success) return { ok: false, code: 'CONTRACTS.SCHEMA', reason: formatIssues(parsed.error) };
  return { ok: true, value: parsed.data as MessageOf<T> };
}

/** Formats validation issues as `path: message; path: message`, at most 10. */
export function formatIssues(error: z.ZodError): string {
  const issues = error.issues.slice(0, 10).map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  if (error.issues.length > 10) issues.push(`and ${error.issues.length - 10} more`);
  return issues.join('; ');
}
