import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import type { TelemetryEnrichedV1 } from '@weir/contracts';
import { BatchingProducer, createKafkaClient, kafkaSettingsSchema } from '@weir/kafka';
import { createLogger, Registry, type Logger } from '@weir/observability';
import { waitFor } from '@weir/testing';
import type { Kafka } from 'kafkajs';
import { Client } from 'pg';
import { AppModule } from '../src/app.module';
import { sinkSettingsSchema, type SinkSettings } from '../src/config';

/** Test log level: quiet unless WEIR_TEST_LOG_LEVEL says otherwise. */
export function testLogger(service = 'sink-int-test'): Logger {
  return createLogger({ service, level: process.env['WEIR_TEST_LOG_LEVEL'] ?? 'error' });
}

/** Sink settings for a test: the given broker, database and topic prefix, fast retries and jobs, ops on a free port. */
export function testSettings(options: { brokers: string[]; databaseUrl: string; topicPrefix: string; sink?: Record<string, unknown> }): SinkSettings {
  return sinkSettingsSchema.parse({
    kafka: { brokers: options.brokers, clientId: 'sink-int-test', topicPrefix: options.topicPrefix, partitions: 3 },
    database: { url: options.databaseUrl, poolMax: 6 },
    observability: { logLevel: process.env['WEIR_TEST_LOG_LEVEL'] ?? 'error', opsPort: 0 },
    sink: { flushIntervalMs: 100, retryMaxMs: 1000, rollups: { intervalMs: 0, settleMs: 0 }, completeness: { sequenceGaps: true, intervalMs: 0, graceMs: 0 }, retention: { enforceIntervalMs: 0 }, ...options.sink },
  });
}

/** A sink running in this process. */
export interface RunningSink {
  app: INestApplicationContext;
  registry: Registry;
  settings: SinkSettings;
  stop(): Promise<void>;
}

/** Starts the whole sink application in this process (migrations, consumers, jobs as configured). */
export async function startSink(settings: SinkSettings, logger = testLogger()): Promise<RunningSink> {
  const registry = new Registry();
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(settings, { logger, registry }), { logger: false });
  let stopped: Promise<void> | undefined;
  return {
    app,
    registry,
    settings,
    stop: () => (stopped ??= app.close()),
  };
}

/** A Kafka client and a producer for test input, on the test broker and prefix. */
export function testKafka(brokers: string[], topicPrefix: string, logger = testLogger()): { kafka: Kafka; producer: BatchingProducer } {
  const kafka = createKafkaClient(kafkaSettingsSchema.parse({ brokers, clientId: 'sink-int-input' }), logger);
  return { kafka, producer: new BatchingProducer(kafka, { logger, topicPrefix, maxBatchMessages: 5000 }) };
}

const NO_CONTEXT: TelemetryEnrichedV1['context'] = { asset: null, productionOrder: null, workOrder: null, shift: null, costCentre: null, unit: null, limits: null };

/** An enriched sample; the value and time are the caller's, the context is empty unless given. */
export function sample(fields: Partial<TelemetryEnrichedV1> & Pick<TelemetryEnrichedV1, 'sourceId' | 'nodeId' | 'seq' | 'sourceTime'>): TelemetryEnrichedV1 {
  return { origin: 'opcua', value: 0, status: 0, context: NO_CONTEXT, ...fields };
}

/** Runs `fn` with a fresh connection to `url`. */
export async function withDb<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** One number from a query (`select count(*) ...`). */
export async function scalar(url: string, sql: string, params: unknown[] = []): Promise<number> {
  return withDb(url, async (c) => Number(Object.values((await c.query(sql, params)).rows[0] as Record<string, unknown>)[0]));
}

/** Waits until `sql` returns `expected` (a count), failing after `timeoutMs`. */
export async function waitForCount(url: string, sql: string, expected: number, timeoutMs = 60_000): Promise<void> {
  let last = -1;
  await waitFor(
    async () => {
      last = await scalar(url, sql).catch(() => -1);
      return last === expected ? true : undefined;
    },
    { timeoutMs, intervalMs: 250, what: `${sql} = ${expected} (last ${last})` },
  );
}

/** Waits until the sink's group of `topic` has committed every partition up to its end. */
export async function waitForCommitted(kafka: Kafka, groupId: string, topic: string, timeoutMs = 60_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(
      async () => {
        const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
        const byPartition = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, p.offset]));
        return ends.every((e) => e.high === '0' || byPartition.get(e.partition) === e.high) ? true : undefined;
      },
      { timeoutMs, intervalMs: 200, what: `${groupId} to commit ${topic} to its end` },
    );
  } finally {
    await admin.disconnect();
  }
}

/** Reads every message of a topic from the beginning until `count` arrived. */
export async function readMessages(kafka: Kafka, topic: string, count: number): Promise<{ headers: Record<string, string>; value: string }[]> {
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}` });
  const seen: { headers: Record<string, string>; value: string }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push({ headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])), value: String(message.value) });
      },
    });
    await waitFor(() => (seen.length >= count ? true : undefined), { timeoutMs: 30_000, what: `${count} message(s) on ${topic}` });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}
