import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { telemetryRawV1, topicName, type TelemetryRawV1 } from '@weir/contracts';
import { createLogger, Registry } from '@weir/observability';
import { canControlServers, metricValue, startKafka, uniqueTopicPrefix, waitFor, type TestKafka } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchingProducer, createKafkaClient, ensureTopics, kafkaSettingsSchema, StoreAndForwardProducer } from '@weir/kafka';
import { readAll, sample } from './helpers';

// kafkajs logs every failed reconnect during the outage; keep the output for real failures.
const logger = createLogger({ service: 'spool-outage-test', level: process.env['WEIR_TEST_LOG_LEVEL'] ?? 'fatal' });
const OUTAGE_MS = 30_000;

describe.runIf(canControlServers)('StoreAndForwardProducer through a Kafka outage', () => {
  let broker: TestKafka;
  let dir: string;

  beforeAll(async () => {
    // A broker of our own (never the shared one): this test stops it.
    broker = await startKafka({ ...process.env, WEIR_TEST_KAFKA_BROKERS: '' });
    dir = await mkdtemp(join(tmpdir(), 'weir-spool-outage-'));
  });
  afterAll(async () => {
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps appending while the broker is down for 30 s, then delivers everything once, in order per key, and drains', async () => {
    const kafka = createKafkaClient(kafkaSettingsSchema.parse({ brokers: broker.brokers, clientId: 'spool-outage' }), logger);
    const admin = kafka.admin();
    await admin.connect();
    const prefix = uniqueTopicPrefix('spool-outage');
    await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: 3, withDlq: false });
    await admin.disconnect();

    const registry = new Registry();
    const producer = new BatchingProducer(kafka, { logger, topicPrefix: prefix });
    await producer.connect();
    const segmentBytes = 1024 * 1024;
    const spool = await StoreAndForwardProducer.open({ dir, producer, logger, metrics: registry, segmentBytes, maxBytes: 256 * 1024 * 1024, retry: { initialMs: 200, maxMs: 2_000 } });

    // A connector's steady flow: 250 samples every 50 ms (~5,000/s), acknowledged once on disk.
    let appended = 0;
    let appendedDuringOutage = 0;
    let down = false;
    let stop = false;
    const appender = (async () => {
      while (!stop) {
        await spool.appendMany(telemetryRawV1, Array.from({ length: 250 }, (_, i) => sample(appended + i, 500)), { state: { next: appended + 250 } });
        appended += 250;
        if (down) appendedDuringOutage += 250;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    let duringOutage: ReturnType<StoreAndForwardProducer['stats']> | undefined;
    try {
      await waitFor(() => (appended >= 10_000 ? true : undefined), { timeoutMs: 30_000, what: '10,000 records before the outage' });
      await spool.flush();

      down = true;
      const outageStarted = Date.now();
      await broker.outage!.pause();
      // While Kafka is gone, appends go on: the spool holds them on disk.
      await waitFor(() => (spool.stats().forwarding === false && spool.stats().bufferedRecords > 5_000 ? true : undefined), { timeoutMs: 120_000, intervalMs: 200, what: 'the spool to notice the outage' });
      await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - outageStarted))));
      duringOutage = spool.stats();
      await broker.outage!.resume();
      down = false;

      await waitFor(() => (appendedDuringOutage >= 50_000 && spool.stats().forwarding ? true : undefined), { timeoutMs: 120_000, intervalMs: 200, what: 'forwarding to resume' });
      await waitFor(() => (appended >= 10_000 + appendedDuringOutage + 10_000 ? true : undefined), { timeoutMs: 60_000, what: '10,000 more records after the outage' });
    } finally {
      stop = true;
      await appender;
    }
    try {
      await spool.flush();
      const after = spool.stats();
      expect(after).toMatchObject({ bufferedRecords: 0, bufferedBytes: 0, forwarding: true, droppedRecords: 0 });
      // Drained, and trimmed back to the segment being written (trimming follows the acknowledgement).
      await waitFor(() => (spool.stats().diskBytes <= segmentBytes ? true : undefined), { what: `the log to be trimmed (${spool.stats().diskBytes} bytes)` });
      expect(spool.getState('next')).toBe(appended);
    } finally {
      await spool.close();
      await producer.close();
    }

    // The spool noticed the outage and held at least the 50,000 records appended meanwhile.
    expect(appendedDuringOutage).toBeGreaterThanOrEqual(50_000);
    expect(duringOutage!.bufferedRecords).toBeGreaterThan(40_000);
    expect(duringOutage!.lastError).toBeDefined();
    expect(duringOutage!.oldestBufferedAt).toBeInstanceOf(Date);
    const errors = await metricValue(registry, 'weir_spool_forward_errors_total');
    expect(errors).toBeGreaterThan(0);

    const readerAdmin = kafka.admin();
    await readerAdmin.connect();
    let messages;
    try {
      messages = await readAll(kafka, readerAdmin, topicName(telemetryRawV1, prefix));
    } finally {
      await readerAdmin.disconnect();
    }
    const seen = new Uint8Array(appended);
    const lastByKey = new Map<string, number>();
    let duplicates = 0;
    let outOfOrder = 0;
    for (const m of messages) {
      const seq = (JSON.parse(m.value!.toString()) as TelemetryRawV1).seq;
      if (seen[seq]) {
        duplicates++;
        continue;
      }
      seen[seq] = 1;
      // Order of each record's first copy, which is what a consumer that drops repeats by sequence number sees.
      const prev = lastByKey.get(m.key!.toString());
      if (prev !== undefined && seq <= prev) outOfOrder++;
      lastByKey.set(m.key!.toString(), seq);
    }
    // A batch in flight when the broker went away may have been written before its send failed; the spool sends
    // it again whole (README: duplicates only in a bounded window). Usually none; never more than the failed
    // attempts' batches (the default forward batch is 10,000 records).
    expect(duplicates).toBeLessThanOrEqual(errors * 10_000);
    expect(outOfOrder).toBe(0);
    expect(messages).toHaveLength(appended + duplicates);
    expect(seen.every((s) => s === 1)).toBe(true);
    process.stdout.write(`spool outage test: ${appended} records, ${appendedDuringOutage} appended while Kafka was down, ${errors} failed forwarding attempts, ${duplicates} resent\n`);
  });
});
