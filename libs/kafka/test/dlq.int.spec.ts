import { dlqTopicName, erpAssetsV1, fixtures, telemetryRawV1, topicName, type ErpAssetV1, type TelemetryRawV1 } from '@weir/contracts';
import { Registry, type Logger } from '@weir/observability';
import { metricValue, uniqueTopicPrefix, waitFor } from '@weir/testing';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchConsumer, BatchingProducer, DLQ_HEADERS, ensureTopics, type ConsumedMessage } from '@weir/kafka';
import { committedOffsets, groupId, readAll, sample, testClient, waitForCommittedToEnd } from './helpers';

let kafka: Kafka;
let admin: Admin;
let logger: Logger;

beforeAll(async () => {
  ({ kafka, admin, logger } = await testClient('dlq'));
});
afterAll(async () => {
  await admin.disconnect();
});

const header = (h: Record<string, unknown> | undefined, name: string): string | undefined => (h?.[name] as Buffer | undefined)?.toString();

describe('BatchConsumer dead-letter handling', () => {
  it('sends invalid messages to the DLQ with their reason and processes the valid ones around them', async () => {
    const prefix = uniqueTopicPrefix('kafka-dlq');
    const topic = topicName(telemetryRawV1, prefix);
    const dlq = dlqTopicName(telemetryRawV1, prefix);
    await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: 1 });
    const producer = new BatchingProducer(kafka, { logger, topicPrefix: prefix });
    const schemaInvalid = fixtures['ot.telemetry.raw.v1']!.invalid[0]!.message; // no sequence number
    const json = (v: unknown): string => JSON.stringify(v);
    // Offsets 0..6 in this order on the single partition.
    const input = [
      { key: 'ok-0', value: json(sample(0)), headers: { 'trace-id': 't0' } },
      { key: 'bad-1', value: '{"sourceId": "plant-hamburg", oops', headers: { 'trace-id': 't1' } },
      { key: 'ok-2', value: json(sample(2)) },
      { key: 'bad-3', value: json(schemaInvalid), headers: { 'trace-id': 't3' } },
      { key: 'ok-4', value: json(sample(4)) },
      { key: 'bad-5', value: null },
      { key: 'ok-6', value: json(sample(6)) },
    ];
    await Promise.all(input.map((m) => producer.sendRaw(topic, m)));
    await producer.close();

    const handled: ConsumedMessage<TelemetryRawV1>[] = [];
    const registry = new Registry();
    const group = groupId('dlq');
    const consumer = new BatchConsumer(kafka, { topic: telemetryRawV1, topicPrefix: prefix, groupId: group, logger, metrics: registry, handler: async (ms) => void handled.push(...ms) });
    await consumer.start();
    try {
      await waitFor(() => (handled.length >= 4 ? true : undefined), { what: 'the valid messages' });
      await waitForCommittedToEnd(admin, group, topic);
    } finally {
      await consumer.stop();
    }

    expect(handled.map((m) => [m.offset, m.key, m.value?.seq])).toEqual([
      ['0', 'ok-0', 0],
      ['2', 'ok-2', 2],
      ['4', 'ok-4', 4],
      ['6', 'ok-6', 6],
    ]);
    expect(handled[0]!.headers).toEqual({ 'trace-id': 't0' });

    const dead = await readAll(kafka, admin, dlq);
    expect(dead.map((m) => m.key?.toString())).toEqual(['bad-1', 'bad-3', 'bad-5']);
    const [notJson, badSchema, empty] = dead;
    expect(notJson!.value?.toString()).toBe(input[1]!.value);
    expect(header(notJson!.headers, 'trace-id')).toBe('t1');
    expect(header(notJson!.headers, DLQ_HEADERS.code)).toBe('CONTRACTS.NOT_JSON');
    expect(header(notJson!.headers, DLQ_HEADERS.reason)).toMatch(/^not JSON: /);
    expect(header(notJson!.headers, DLQ_HEADERS.sourceTopic)).toBe(topic);
    expect(header(notJson!.headers, DLQ_HEADERS.sourcePartition)).toBe('0');
    expect(header(notJson!.headers, DLQ_HEADERS.sourceOffset)).toBe('1');

    expect(badSchema!.value?.toString()).toBe(input[3]!.value);
    expect(header(badSchema!.headers, 'trace-id')).toBe('t3');
    expect(header(badSchema!.headers, DLQ_HEADERS.code)).toBe('CONTRACTS.SCHEMA');
    expect(header(badSchema!.headers, DLQ_HEADERS.reason)).toMatch(/seq/);
    expect(header(badSchema!.headers, DLQ_HEADERS.sourceOffset)).toBe('3');

    expect(empty!.value).toBeNull();
    expect(header(empty!.headers, DLQ_HEADERS.code)).toBe('CONTRACTS.EMPTY');
    expect(header(empty!.headers, DLQ_HEADERS.sourceOffset)).toBe('5');

    expect((await committedOffsets(admin, group, topic)).get(0)).toBe(7n);
    const dlqCount = await metricValue(registry, 'weir_kafka_consumer_dlq_total');
    expect(dlqCount).toBe(3);
  });

  it('passes tombstones of a compacted topic to the handler as null values', async () => {
    const prefix = uniqueTopicPrefix('kafka-tomb');
    await ensureTopics(admin, [erpAssetsV1], { prefix, partitions: 1 });
    const producer = new BatchingProducer(kafka, { logger, topicPrefix: prefix });
    const asset = fixtures['erp.assets.v1']!.valid[0] as ErpAssetV1;
    await producer.send(erpAssetsV1, asset);
    await producer.sendTombstone(erpAssetsV1, asset.id);
    await expect(producer.sendTombstone(telemetryRawV1, 'x')).rejects.toMatchObject({ code: 'KAFKA.INVALID_MESSAGE' });
    await producer.close();

    const handled: ConsumedMessage<ErpAssetV1>[] = [];
    const consumer = new BatchConsumer(kafka, { topic: erpAssetsV1, topicPrefix: prefix, groupId: groupId('tomb'), logger, handler: async (ms) => void handled.push(...ms) });
    await consumer.start();
    try {
      await waitFor(() => (handled.length >= 2 ? true : undefined), { what: 'asset and tombstone' });
    } finally {
      await consumer.stop();
    }
    expect(handled.map((m) => [m.key, m.value === null ? null : m.value.id])).toEqual([
      [asset.id, asset.id],
      [asset.id, null],
    ]);
    expect(await readAll(kafka, admin, dlqTopicName(erpAssetsV1, prefix))).toEqual([]);
  });
});
