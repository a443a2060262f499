import { defineTopic, dlqTopicName, telemetryRawV1, topicName } from '@weir/contracts';
import { Registry, type Logger } from '@weir/observability';
import { uniqueSuffix, uniqueTopicPrefix } from '@weir/testing';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BatchConsumer, BatchingProducer, createTransactionalProducer, ensureTopics, TransactionalProcessor, type TransactionOutput } from '@weir/kafka';
import { committedOffsets, endOffsets, groupId, readAll, sample, testClient, waitForCommittedToEnd } from './helpers';

let kafka: Kafka;
let admin: Admin;
let logger: Logger;

beforeAll(async () => {
  ({ kafka, admin, logger } = await testClient('tx'));
});
afterAll(async () => {
  await admin.disconnect();
});

/** Output of the test transform: one message per input sample. */
const doubledV1 = defineTopic({
  name: 'test.doubled.v1',
  description: 'Test output: each raw sample seq with its value doubled',
  schema: z.object({ seq: z.number().int().nonnegative(), doubled: z.number() }),
  key: (m) => String(m.seq),
  defaultPartitions: 2,
});

describe('transactions', () => {
  it('hides an aborted transaction from a read_committed consumer and shows a committed one', async () => {
    const prefix = uniqueTopicPrefix('kafka-txvis');
    const topic = topicName(telemetryRawV1, prefix);
    await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: 1, withDlq: false });
    const producer = createTransactionalProducer(kafka, { transactionalId: `tx-vis-${uniqueSuffix()}` });
    await producer.connect();
    try {
      const message = (seq: number) => ({ key: String(seq), value: JSON.stringify(sample(seq)) });
      const aborted = await producer.transaction();
      await aborted.send({ topic, messages: [1000, 1001, 1002].map(message) });
      await aborted.abort();
      const committed = await producer.transaction();
      await committed.send({ topic, messages: [0, 1, 2].map(message) });
      await committed.commit();
    } finally {
      await producer.disconnect();
    }

    const seen: number[] = [];
    const group = groupId('txvis');
    const consumer = new BatchConsumer(kafka, { topic: telemetryRawV1, topicPrefix: prefix, groupId: group, logger, handler: async (ms) => void seen.push(...ms.map((m) => m.value!.seq)) });
    await consumer.start();
    try {
      // Committing to the end means the consumer read past the aborted messages and both markers.
      await waitForCommittedToEnd(admin, group, topic);
    } finally {
      await consumer.stop();
    }
    expect(seen).toEqual([0, 1, 2]);
    // The aborted messages were written: a read_uncommitted reader sees them.
    const all = await readAll(kafka, admin, topic, { readUncommitted: true });
    expect(all.map((m) => JSON.parse(m.value!.toString()).seq as number)).toEqual([1000, 1001, 1002, 0, 1, 2]);
  });

  it('consume-transform-produce gives exactly-once output across an abort in the middle of a transaction', async () => {
    const prefix = uniqueTopicPrefix('kafka-ctp');
    const input = topicName(telemetryRawV1, prefix);
    const output = topicName(doubledV1, prefix);
    await ensureTopics(admin, [telemetryRawV1, doubledV1], { prefix, partitions: 2 });
    const N = 3000;
    const producer = new BatchingProducer(kafka, { logger, topicPrefix: prefix });
    await producer.sendMany(telemetryRawV1, Array.from({ length: N }, (_, i) => sample(i, 40)));
    await producer.sendRaw(input, { key: 'bad', value: 'not json' });
    await producer.close();

    const registry = new Registry();
    const group = groupId('ctp');
    const transactionsSeen = new WeakSet<TransactionOutput>();
    let crashed = false;
    const processor = new TransactionalProcessor(kafka, {
      input: telemetryRawV1,
      topicPrefix: prefix,
      groupId: group,
      transactionalIdPrefix: `ctp-${uniqueSuffix()}`,
      logger,
      metrics: registry,
      maxHandlerMessages: 100,
      retry: { initialMs: 50, maxMs: 200 },
      transform: (messages, out) => {
        // The second chunk of a batch adds, once, a record the broker refuses (over its 1 MiB
        // max.message.bytes), sent in a request of its own after the first chunk's output: the
        // transaction fails after it wrote messages, is aborted, and the batch is done again.
        if (!crashed && transactionsSeen.has(out)) {
          crashed = true;
          out.sendTrusted(doubledV1, { seq: -1, doubled: 0 }, { json: JSON.stringify({ seq: -1, doubled: 0, pad: 'x'.repeat(2 * 1024 * 1024) }) });
        }
        transactionsSeen.add(out);
        for (const m of messages) out.send(doubledV1, { seq: m.value!.seq, doubled: (m.value!.value as number) * 2 });
      },
    });
    await processor.start();
    try {
      await waitForCommittedToEnd(admin, group, input);
    } finally {
      await processor.stop();
    }
    expect(crashed).toBe(true);

    const committedOutput = await readAll(kafka, admin, output);
    const seqs = committedOutput.map((m) => (JSON.parse(m.value!.toString()) as { seq: number }).seq);
    expect(seqs).toHaveLength(N);
    expect(new Set(seqs).size).toBe(N);
    expect(committedOutput.every((m) => m.key?.toString() === String(JSON.parse(m.value!.toString()).seq))).toBe(true);
    // The aborted transaction's messages exist in the log, hidden from read_committed readers.
    const everything = await readAll(kafka, admin, output, { readUncommitted: true });
    expect(everything.length).toBeGreaterThan(N);

    const dead = await readAll(kafka, admin, dlqTopicName(telemetryRawV1, prefix));
    expect(dead.map((m) => m.value?.toString())).toEqual(['not json']);
    expect(await committedOffsets(admin, group, input)).toEqual(await endOffsets(admin, input));
    const tx = (await registry.getSingleMetric('weir_kafka_transactions_total')!.get()).values;
    expect(tx.find((v) => v.labels['outcome'] === 'aborted')?.value).toBe(1);
  });

  it('a restarted processor with the same transactional id continues without duplicating output', async () => {
    const prefix = uniqueTopicPrefix('kafka-ctp2');
    const input = topicName(telemetryRawV1, prefix);
    const output = topicName(doubledV1, prefix);
    await ensureTopics(admin, [telemetryRawV1, doubledV1], { prefix, partitions: 1, withDlq: true });
    const producer = new BatchingProducer(kafka, { logger, topicPrefix: prefix });
    await producer.sendMany(telemetryRawV1, Array.from({ length: 500 }, (_, i) => sample(i)));
    const group = groupId('ctp2');
    const transactionalIdPrefix = `ctp2-${uniqueSuffix()}`;
    const make = () =>
      new TransactionalProcessor(kafka, {
        input: telemetryRawV1,
        topicPrefix: prefix,
        groupId: group,
        transactionalIdPrefix,
        logger,
        transform: (messages, out) => {
          for (const m of messages) out.send(doubledV1, { seq: m.value!.seq, doubled: 0 });
        },
      });
    const first = make();
    await first.start();
    await waitForCommittedToEnd(admin, group, input);
    await first.stop();

    await producer.sendMany(telemetryRawV1, Array.from({ length: 500 }, (_, i) => sample(500 + i)));
    await producer.close();
    const second = make();
    await second.start();
    try {
      await waitForCommittedToEnd(admin, group, input);
    } finally {
      await second.stop();
    }
    const seqs = (await readAll(kafka, admin, output)).map((m) => (JSON.parse(m.value!.toString()) as { seq: number }).seq);
    expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });
});
