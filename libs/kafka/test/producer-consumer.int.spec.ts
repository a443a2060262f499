import { telemetryRawV1, topicName } from '@weir/contracts';
import { Registry } from '@weir/observability';
import { metricValue, uniqueTopicPrefix, waitFor } from '@weir/testing';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchConsumer, BatchingProducer, ensureTopics, isKafkaError, type KafkaError } from '@weir/kafka';
import { committedOffsets, endOffsets, groupId, sample, testClient, waitForCommittedToEnd } from './helpers';
import type { Logger } from '@weir/observability';

let kafka: Kafka;
let admin: Admin;
let logger: Logger;

beforeAll(async () => {
  ({ kafka, admin, logger } = await testClient('pc'));
});
afterAll(async () => {
  await admin.disconnect();
});


describe('BatchingProducer and BatchConsumer', () => {
  it('exchange 100,000 messages with none lost or duplicated and per-key order kept', async () => {
    const prefix = uniqueTopicPrefix('kafka-pc');
    const topic = topicName(telemetryRawV1, prefix);
    await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: 3 });
    const registry = new Registry();
    const N = 100_000;
    const KEYS = 200;
    const seen = new Uint8Array(N);
    let received = 0;
    let duplicates = 0;
    let outOfOrder = 0;
    const lastSeqByKey = new Map<string, number>();
    const group = groupId('pc');
    const consumer = new BatchConsumer(kafka, {
      topic: telemetryRawV1,
      topicPrefix: prefix,
      groupId: group,
      logger,
      metrics: registry,
      partitionsConsumedConcurrently: 3,
      handler: async (messages) => {
        for (const m of messages) {
          const seq = m.value!.seq;
          if (seen[seq]) duplicates++;
          seen[seq] = 1;
          const prev = lastSeqByKey.get(m.key!);
          if (prev !== undefined && seq <= prev) outOfOrder++;
          lastSeqByKey.set(m.key!, seq);
          received++;
        }
      },
    });
    const producer = new BatchingProducer(kafka, { logger, metrics: registry, topicPrefix: prefix });
    await producer.connect();
    await consumer.start();
    try {
      // Produced while the consumer runs, so batches are consumed as they arrive.
      await producer.sendMany(telemetryRawV1, (function* () {
        for (let i = 0; i < N; i++) yield sample(i, KEYS);
      })());
      await waitFor(() => (received >= N ? true : undefined), { timeoutMs: 60_000, what: `${N} messages` });
      await waitForCommittedToEnd(admin, group, topic);
    } finally {
      await consumer.stop();
      await producer.close();
    }
    expect(received).toBe(N);
    expect(duplicates).toBe(0);
    expect(seen.every((s) => s === 1)).toBe(true);
    expect(outOfOrder).toBe(0);
    expect(lastSeqByKey.size).toBe(KEYS);
    const ends = await endOffsets(admin, topic);
    expect([...ends.values()].reduce((a, b) => a + b, 0n)).toBe(BigInt(N));
    expect(await metricValue(registry, 'weir_kafka_producer_messages_total', { topic })).toBe(N);
    expect(await metricValue(registry, 'weir_kafka_consumer_messages_total', { topic })).toBe(N);
    expect(await metricValue(registry, 'weir_kafka_producer_send_errors_total')).toBe(0);
    expect(await metricValue(registry, 'weir_kafka_consumer_lag', { topic })).toBe(0);
  });

  it('keeps its buffer bounded: enqueue waits while the buffer is full', async () => {
    const prefix = uniqueTopicPrefix('kafka-bp');
    await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: 1 });
    const producer = new BatchingProducer(kafka, { logger, topicPrefix: prefix, maxBatchMessages: 5, maxBufferedMessages: 10, lingerMs: 1 });
    let maxBuffered = 0;
    const deliveries: Promise<void>[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        deliveries.push((await producer.enqueue(telemetryRawV1, sample(i))).delivered);
        maxBuffered = Math.max(maxBuffered, producer.buffered.messages);
      }
      await Promise.all(deliveries);
    } finally {
      await producer.close();
    }
    expect(maxBuffered).toBe(10);
    expect(producer.buffered.messages).toBe(0);
    const ends = await endOffsets(admin, topicName(telemetryRawV1, prefix));
    expect(ends.get(0)).toBe(200n);
  });

  it('sends gzip-compressed batches that the consumer reads like any other', async () => {
    const prefix = uniqueTopicPrefix('kafka-gzip');
    await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: 2, withDlq: false });
    const producer = new BatchingProducer(kafka, { logger, topicPrefix: prefix, compression: 'gzip' });
    await producer.sendMany(telemetryRawV1, Array.from({ length: 2000 }, (_, i) => sample(i)));
    await producer.close();
    const seqs: number[] = [];
    const group = groupId('gzip');
    const consumer = new BatchConsumer(kafka, { topic: telemetryRawV1, topicPrefix: prefix, groupId: group, logger, handler: async (ms) => void seqs.push(...ms.map((m) => m.value!.seq)) });
    await consumer.start();
    try {
      await waitForCommittedToEnd(admin, group, topicName(telemetryRawV1, prefix));
    } finally {
      await consumer.stop();
    }
    expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });

  it('rejects an invalid message before sending and a failed batch with KAFKA.SEND_FAILED, then keeps working', async () => {
    const prefix = uniqueTopicPrefix('kafka-err');
    await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: 1, withDlq: false });
    const registry = new Registry();
    const producer = new BatchingProducer(kafka, { logger, metrics: registry, topicPrefix: prefix, retries: 1 });
    try {
      const bad = { ...sample(1), seq: -1 };
      await expect(producer.send(telemetryRawV1, bad)).rejects.toMatchObject({ code: 'KAFKA.INVALID_MESSAGE' });

      // Auto-creation is off on the test broker, so this topic does not exist.
      const failed = await producer.sendRaw(`${prefix}no-such-topic`, { key: 'k', value: '{}' }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isKafkaError(failed, 'KAFKA.SEND_FAILED')).toBe(true);
      expect((failed as KafkaError).message).toMatch(/no-such-topic/);
      expect(await metricValue(registry, 'weir_kafka_producer_send_errors_total')).toBe(1);

      await producer.send(telemetryRawV1, sample(2));
      await expect(producer.flush()).resolves.toBeUndefined();
    } finally {
      await producer.close();
    }
    await expect(producer.send(telemetryRawV1, sample(3))).rejects.toMatchObject({ code: 'KAFKA.PRODUCER_CLOSED' });
    const ends = await endOffsets(admin, topicName(telemetryRawV1, prefix));
    expect(ends.get(0)).toBe(1n);
  });

  it('reports readiness once it is in the group and not after stop', async () => {
    const prefix = uniqueTopicPrefix('kafka-health');
    await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: 2, withDlq: false });
    const consumer = new BatchConsumer(kafka, { topic: telemetryRawV1, topicPrefix: prefix, groupId: groupId('health'), logger, handler: async () => undefined });
    const check = consumer.healthCheck();
    expect(check.kind).toBe('readiness');
    expect(await check.check()).toMatchObject({ ok: false });
    await consumer.start();
    try {
      expect(await check.check()).toEqual({ ok: true, detail: `2 partition(s) of ${prefix}ot.telemetry.raw.v1 assigned` });
    } finally {
      await consumer.stop();
    }
    expect(await check.check()).toMatchObject({ ok: false, detail: 'consumer stopped' });
    const committed = await committedOffsets(admin, 'nothing', `${prefix}ot.telemetry.raw.v1`);
    expect([...committed.values()].every((o) => o === -1n)).toBe(true);
  });
});
