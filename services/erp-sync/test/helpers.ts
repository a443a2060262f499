import { createKafkaClient, kafkaSettingsSchema } from '@weir/kafka';
import { createMetricsRegistry, HealthRegistry, type Registry } from '@weir/observability';
import { capturingLogger, uniqueSuffix, waitFor } from '@weir/testing';
import type { Admin, Kafka } from 'kafkajs';
import { inject } from 'vitest';
import { erpSyncSettingsSchema, type ErpSyncSettingsInput } from '../src/config';
import { startErpSync, type ErpSync } from '../src/erp-sync';


/** A running erp-sync for a test, with what it logged and its metrics. */
export interface TestService {
  sync: ErpSync;
  lines: Record<string, unknown>[];
  metrics: Registry;
  health: HealthRegistry;
}

/** Starts erp-sync on the shared test Kafka without its poll loops (the test polls with `pollNow`). */
export async function startService(input: Omit<ErpSyncSettingsInput, 'kafka'> & { topicPrefix: string }, options: { now?: () => Date } = {}): Promise<TestService> {
  const { topicPrefix, ...rest } = input;
  const settings = erpSyncSettingsSchema.parse({ ...rest, kafka: { brokers: inject('kafkaBrokers'), clientId: `erp-sync-test-${uniqueSuffix()}`, topicPrefix } });
  const { logger, lines } = capturingLogger('erp-sync-test');
  const metrics = createMetricsRegistry('erp-sync', { defaultMetrics: false });
  const health = new HealthRegistry();
  const sync = await startErpSync(settings, { logger, metrics, health, startPolling: false, ...(options.now ? { now: options.now } : {}) });
  return { sync, lines, metrics, health };
}

/** A client and a connected admin for reading topics back. */
export async function testKafka(): Promise<{ kafka: Kafka; admin: Admin; close: () => Promise<void> }> {
  const { logger } = capturingLogger('erp-sync-test');
  const kafka = createKafkaClient(kafkaSettingsSchema.parse({ brokers: inject('kafkaBrokers'), clientId: `erp-reader-${uniqueSuffix()}` }), logger);
  const admin = kafka.admin();
  await admin.connect();
  return { kafka, admin, close: () => admin.disconnect() };
}

/** One message of a topic: its key and its JSON value, null for a tombstone. */
export interface TopicMessage {
  key: string;
  value: Record<string, unknown> | null;
  partition: number;
  offset: bigint;
}

/**
 * Every message of a topic, read with a plain kafkajs consumer up to the end
 * offsets as of the call (exact, no waiting for "nothing more arrives").
 */
export async function readTopic(kafka: Kafka, admin: Admin, topic: string): Promise<TopicMessage[]> {
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  const position = new Map<number, bigint>([...ends.keys()].map((p) => [p, 0n]));
  const done = (): boolean => [...ends].every(([p, end]) => (position.get(p) ?? 0n) >= end);
  const out: TopicMessage[] = [];
  if (done()) return out;
  const consumer = kafka.consumer({ groupId: `erp-reader-${uniqueSuffix()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          out.push({ key: m.key?.toString() ?? '', value: m.value ? (JSON.parse(m.value.toString()) as Record<string, unknown>) : null, partition: batch.partition, offset: BigInt(m.offset) });
          position.set(batch.partition, BigInt(m.offset) + 1n);
        }
      },
    });
    await waitFor(() => (done() ? true : undefined), { timeoutMs: 30_000, what: `reading ${topic} to its end` });
  } finally {
    await consumer.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset));
}

/** The latest value per key (compaction's view): null for a key whose last message is a tombstone. */
export function latestByKey(messages: readonly TopicMessage[]): Map<string, Record<string, unknown> | null> {
  const latest = new Map<string, Record<string, unknown> | null>();
  for (const m of messages) latest.set(m.key, m.value);
  return latest;
}

/** Messages of `after` that were not in `before` (what a poll appended), in partition/offset order. */
export function appended(before: readonly TopicMessage[], after: readonly TopicMessage[]): TopicMessage[] {
  const seen = new Set(before.map((m) => `${m.partition}:${m.offset}`));
  return after.filter((m) => !seen.has(`${m.partition}:${m.offset}`));
}
