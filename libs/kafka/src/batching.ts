import type { IHeaders, Message, TopicMessages } from 'kafkajs';

// Per-record framing Kafka adds (offset delta, timestamp delta, lengths, attributes); an
// estimate is enough because the limit guards memory and request size, not exact bytes.
const RECORD_OVERHEAD_BYTES = 24;

/** Headers a producer attaches to a message. */
export type MessageHeaders = Readonly<Record<string, string | Buffer>>;

/** Approximate size in bytes of a record on the wire (uncompressed). */
export function recordBytes(key: string | Buffer | null | undefined, value: Buffer | string | null, headers?: IHeaders | MessageHeaders): number {
  let bytes = RECORD_OVERHEAD_BYTES;
  if (key) bytes += typeof key === 'string' ? Buffer.byteLength(key) : key.length;
  if (value) bytes += typeof value === 'string' ? Buffer.byteLength(value) : value.length;
  if (headers) {
    for (const [name, v] of Object.entries(headers)) {
      if (v === undefined) continue;
      bytes += Buffer.byteLength(name) + 8;
      for (const item of Array.isArray(v) ? v : [v]) bytes += typeof item === 'string' ? Buffer.byteLength(item) : item.length;
    }
  }
  return bytes;
}

/**
 * How many items from the head of a queue make the next batch: as many as fit
 * in `maxMessages` and `maxBytes`, but at least one, so an item larger than
 * `maxBytes` is still sent (alone) and the broker's verdict reaches its caller.
 */
export function takeBatch(items: readonly { readonly bytes: number }[], start: number, maxMessages: number, maxBytes: number): number {
  let count = 0;
  let bytes = 0;
  for (let i = start; i < items.length && count < maxMessages; i++) {
    const size = items[i]!.bytes;
    if (count > 0 && bytes + size > maxBytes) break;
    bytes += size;
    count++;
  }
  return count;
}

/** A record bound for one topic. */
export interface TopicRecord {
  topic: string;
  message: Message;
}

/** Groups records per topic for `sendBatch`, keeping their order within each topic. */
export function groupByTopic(records: readonly TopicRecord[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const { topic, message } of records) {
    let list = byTopic.get(topic);
    if (!list) byTopic.set(topic, (list = []));
    list.push(message);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/** Splits `items` into consecutive chunks of at most `size` (the array itself when it fits in one). */
export function chunks<T>(items: readonly T[], size: number): (readonly T[])[] {
  if (items.length === 0) return [];
  if (!Number.isFinite(size) || size >= items.length) return [items];
  const step = Math.max(1, Math.floor(size));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += step) out.push(items.slice(i, i + step));
  return out;
}
