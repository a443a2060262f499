import { type TelemetryRawV1 } from '@weir/contracts';
import { createLogger, type Logger } from '@weir/observability';
import { uniqueSuffix, waitFor } from '@weir/testing';
import { type Admin, type Kafka, type KafkaMessage } from 'kafkajs';
import { inject } from 'vitest';
import { createKafkaClient, kafkaSettingsSchema } from '@weir/kafka';

/** Test log level: quiet unless WEIR_TEST_LOG_LEVEL says otherwise. */
export function testLogger(): Logger {
  return createLogger({ service: 'kafka-int-test', level: process.env['WEIR_TEST_LOG_LEVEL'] ?? 'error' });
}

/** A client for the shared test broker, and a connected admin. */
export async function testClient(label: string): Promise<{ kafka: Kafka; admin: Admin; logger: Logger }> {
  const logger = testLogger();
  const kafka = createKafkaClient(kafkaSettingsSchema.parse({ brokers: inject('kafkaBrokers'), clientId: `kafka-int-${label}` }), logger);
  const admin = kafka.admin();
  await admin.connect();
  return { kafka, admin, logger };
}

/** A unique consumer group id. */
export function groupId(label: string): string {
  return `g-${label}-${uniqueSuffix()}`;
}

/** A ~200-byte raw sample; `seq` is its id, keys cycle over `keys` series. */
export function sample(seq: number, keys = 200): TelemetryRawV1 {
  return {
    sourceId: 'plant-hamburg',
    nodeId: `ns=3;s=Line1.Filler.Tag${seq % keys}`,
    seq,
    origin: 'opcua',
    value: 400 + (seq % 1000) / 8,
    dataType: 'Double',
    status: 0,
    sourceTime: new Date(Date.UTC(2026, 10, 25, 8, 0, 0) + seq).toISOString(),
    serverTime: new Date(Date.UTC(2026, 10, 25, 8, 0, 0) + seq + 4).toISOString(),
  };
}

/** One message as read back by `readAll`. */
export type ReadMessage = KafkaMessage & { partition: number };

/**
 * Reads a whole topic from the beginning with a plain kafkajs consumer (no
 * group commits) until every partition is read up to its end offset as of the
 * call, so the result is exact without guessing with timeouts.
 */
export async function readAll(kafka: Kafka, admin: Admin, topic: string, options: { readUncommitted?: boolean } = {}): Promise<ReadMessage[]> {
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  const position = new Map<number, bigint>([...ends.keys()].map((p) => [p, 0n]));
  const done = (): boolean => [...ends].every(([p, end]) => (position.get(p) ?? 0n) >= end);
  const out: ReadMessage[] = [];
  if (done()) return out;
  const consumer = kafka.consumer({ groupId: `reader-${uniqueSuffix()}`, readUncommitted: options.readUncommitted ?? false, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    // Batches holding only transaction markers or aborted messages never reach eachBatch; this
    // event reports them too, and its lastOffset counts the markers the end offset includes.
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      position.set(e.payload.partition, BigInt(e.payload.lastOffset) + 1n);
    });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) out.push({ ...m, partition: batch.partition });
      },
    });
    await waitFor(() => (done() ? true : undefined), { timeoutMs: 30_000, what: `reading ${topic} to its end` });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/** Committed offsets of a group on a topic, by partition (-1 when none). */
export async function committedOffsets(admin: Admin, group: string, topic: string): Promise<Map<number, bigint>> {
  const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return new Map((t?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
}

/** End offsets of a topic, by partition. */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
}

/** Waits until the group has committed every partition of the topic up to its end. */
export async function waitForCommittedToEnd(admin: Admin, group: string, topic: string): Promise<void> {
  await waitFor(
    async () => {
      const [committed, ends] = await Promise.all([committedOffsets(admin, group, topic), endOffsets(admin, topic)]);
      return [...ends].every(([p, end]) => end === 0n || committed.get(p) === end) ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: `group ${group} to commit ${topic} to its end` },
  );
}
