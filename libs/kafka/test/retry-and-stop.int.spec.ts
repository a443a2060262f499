import { telemetryRawV1, topicName } from '@weir/contracts';
import { Registry, type Logger } from '@weir/observability';
import { metricValue, uniqueTopicPrefix, waitFor } from '@weir/testing';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchConsumer, BatchingProducer, ensureTopics } from '@weir/kafka';
import { committedOffsets, endOffsets, groupId, sample, testClient, waitForCommittedToEnd } from './helpers';

let kafka: Kafka;
let admin: Admin;
let logger: Logger;

beforeAll(async () => {
  ({ kafka, admin, logger } = await testClient('retry'));
});
afterAll(async () => {
  await admin.disconnect();
});

async function produce(prefix: string, from: number, count: number): Promise<void> {
  const producer = new BatchingProducer(kafka, { logger, topicPrefix: prefix });
  try {
    await producer.sendMany(telemetryRawV1, Array.from({ length: count }, (_, i) => sample(from + i, 50)));
  } finally {
    await producer.close();
  }
}

const fastRetry = { initialMs: 50, maxMs: 200 };

describe('BatchConsumer retries and stop', () => {
  it('retries a failing handler with the same messages, commits only after success, and a restart resumes after the last handled offset', async () => {
    const prefix = uniqueTopicPrefix('kafka-retry');
    const topic = topicName(telemetryRawV1, prefix);
    await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: 3, withDlq: false });
    await produce(prefix, 0, 600);
    const group = groupId('retry');
    const registry = new Registry();

    const handledSeqs: number[] = [];
    let failuresLeft = 2;
    const failedAttempts: { partition: number; offsets: string[]; committedAtFailure: bigint }[] = [];
    const consumerA = new BatchConsumer(kafka, {
      topic: telemetryRawV1,
      topicPrefix: prefix,
      groupId: group,
      logger,
      metrics: registry,
      retry: fastRetry,
      handler: async (messages, { partition }) => {
        if (failuresLeft > 0) {
          failuresLeft--;
          const committed = (await committedOffsets(admin, group, topic)).get(partition) ?? -1n;
          failedAttempts.push({ partition, offsets: messages.map((m) => m.offset), committedAtFailure: committed });
          throw new Error('database unavailable');
        }
        handledSeqs.push(...messages.map((m) => m.value!.seq));
      },
    });
    await consumerA.start();
    try {
      await waitFor(() => (handledSeqs.length >= 600 ? true : undefined), { timeoutMs: 30_000, what: '600 handled' });
      await waitForCommittedToEnd(admin, group, topic);
    } finally {
      await consumerA.stop();
    }

    // The two failures were the same messages, retried, and nothing of theirs was committed meanwhile.
    expect(failedAttempts).toHaveLength(2);
    expect(failedAttempts[1]!.partition).toBe(failedAttempts[0]!.partition);
    expect(failedAttempts[1]!.offsets).toEqual(failedAttempts[0]!.offsets);
    for (const f of failedAttempts) expect(f.committedAtFailure <= BigInt(f.offsets[0]!)).toBe(true);
    // ... then handled once: nothing lost, nothing twice.
    expect(handledSeqs).toHaveLength(600);
    expect(new Set(handledSeqs).size).toBe(600);
    const retries = await metricValue(registry, 'weir_kafka_consumer_retries_total');
    expect(retries).toBe(2);
    expect(await committedOffsets(admin, group, topic)).toEqual(await endOffsets(admin, topic));

    // A new member of the same group resumes after the last handled offset.
    await produce(prefix, 600, 300);
    const resumed: number[] = [];
    const consumerB = new BatchConsumer(kafka, { topic: telemetryRawV1, topicPrefix: prefix, groupId: group, logger, handler: async (ms) => void resumed.push(...ms.map((m) => m.value!.seq)) });
    await consumerB.start();
    try {
      await waitForCommittedToEnd(admin, group, topic);
    } finally {
      await consumerB.stop();
    }
    expect(resumed.sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => 600 + i));
  });

  it('stops gracefully: the handler call in progress finishes and what was handled is committed', async () => {
    const prefix = uniqueTopicPrefix('kafka-stop');
    const topic = topicName(telemetryRawV1, prefix);
    await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: 1, withDlq: false });
    await produce(prefix, 0, 1000);
    const group = groupId('stop');

    const handledOffsets: number[] = [];
    let calls = 0;
    let inFourthCall: (() => void) | undefined;
    const fourthCallStarted = new Promise<void>((resolve) => (inFourthCall = resolve));
    const consumerA = new BatchConsumer(kafka, {
      topic: telemetryRawV1,
      topicPrefix: prefix,
      groupId: group,
      logger,
      maxHandlerMessages: 100,
      handler: async (messages) => {
        calls++;
        if (calls === 4) {
          inFourthCall!();
          // Slow enough that stop() arrives while this call runs.
          await new Promise((r) => setTimeout(r, 500));
        }
        handledOffsets.push(...messages.map((m) => Number(m.offset)));
      },
    });
    await consumerA.start();
    await fourthCallStarted;
    await consumerA.stop();

    // The fourth call, in progress when stop() was called, finished; no fifth call started.
    expect(calls).toBe(4);
    const handled = handledOffsets.length;
    expect(handled).toBeGreaterThan(300);
    expect(handledOffsets).toEqual(Array.from({ length: handled }, (_, i) => i));
    expect((await committedOffsets(admin, group, topic)).get(0)).toBe(BigInt(handled));

    const rest: number[] = [];
    const consumerB = new BatchConsumer(kafka, { topic: telemetryRawV1, topicPrefix: prefix, groupId: group, logger, handler: async (ms) => void rest.push(...ms.map((m) => Number(m.offset))) });
    await consumerB.start();
    try {
      await waitForCommittedToEnd(admin, group, topic);
    } finally {
      await consumerB.stop();
    }
    expect(rest).toEqual(Array.from({ length: 1000 - handled }, (_, i) => handled + i));
  });

  it('gives up retrying when stopped, without committing the failed messages', async () => {
    const prefix = uniqueTopicPrefix('kafka-stopretry');
    const topic = topicName(telemetryRawV1, prefix);
    await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: 1, withDlq: false });
    await produce(prefix, 0, 10);
    const group = groupId('stopretry');
    let attempts = 0;
    const consumer = new BatchConsumer(kafka, {
      topic: telemetryRawV1,
      topicPrefix: prefix,
      groupId: group,
      logger,
      retry: { initialMs: 60_000, maxMs: 60_000 },
      handler: async () => {
        attempts++;
        throw new Error('always failing');
      },
    });
    await consumer.start();
    await waitFor(() => (attempts >= 1 ? true : undefined), { what: 'the first attempt' });
    // The consumer now waits a minute before retrying; stop must not wait for that.
    await consumer.stop();
    expect(attempts).toBe(1);
    expect((await committedOffsets(admin, group, topic)).get(0)).toBe(-1n);
  });
});
