import { mkdtemp, readdir, rm, stat, truncate, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { telemetryRawV1, topicName, type TelemetryRawV1 } from '@weir/contracts';
import { Registry, type Logger } from '@weir/observability';
import { metricValue, uniqueTopicPrefix, waitFor } from '@weir/testing';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BatchingProducer, ensureTopics, isSpoolError, StoreAndForwardProducer, type FsyncMode, type SpoolDrop } from '@weir/kafka';
import { readAll, sample, testClient, type ReadMessage } from './helpers';

let kafka: Kafka;
let admin: Admin;
let logger: Logger;
let dir: string;

beforeAll(async () => {
  ({ kafka, admin, logger } = await testClient('spool'));
});
afterAll(async () => {
  await admin.disconnect();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weir-spool-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});


/** What a topic holds, decoded: sequence numbers in partition order, duplicates and per-key order violations. */
function inspect(messages: ReadMessage[]): { seqs: number[]; distinct: number; duplicates: number; outOfOrder: number; outOfOrderFirstSeen: number } {
  const seen = new Set<number>();
  const lastByKey = new Map<string, number>();
  const lastFirstSeenByKey = new Map<string, number>();
  let duplicates = 0;
  let outOfOrder = 0;
  let outOfOrderFirstSeen = 0;
  const seqs: number[] = [];
  // readAll returns each partition's messages in offset order.
  for (const m of messages) {
    const seq = (JSON.parse(m.value!.toString()) as TelemetryRawV1).seq;
    seqs.push(seq);
    const key = m.key!.toString();
    const prev = lastByKey.get(key);
    if (prev !== undefined && seq <= prev) outOfOrder++;
    lastByKey.set(key, seq);
    if (seen.has(seq)) {
      duplicates++;
      continue;
    }
    seen.add(seq);
    // Order of each record's first copy: what a consumer that drops repeats sees.
    const prevFirst = lastFirstSeenByKey.get(key);
    if (prevFirst !== undefined && seq <= prevFirst) outOfOrderFirstSeen++;
    lastFirstSeenByKey.set(key, seq);
  }
  return { seqs, distinct: seen.size, duplicates, outOfOrder, outOfOrderFirstSeen };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('StoreAndForwardProducer', () => {
  it('passes 100,000 records through to Kafka once each, in order per key, and trims the log as Kafka acknowledges', async () => {
    const prefix = uniqueTopicPrefix('spool-pass');
    await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: 3, withDlq: false });
    const registry = new Registry();
    const producer = new BatchingProducer(kafka, { logger, metrics: registry, topicPrefix: prefix });
    await producer.connect();
    const segmentBytes = 1024 * 1024;
    const spool = await StoreAndForwardProducer.open({ dir, producer, logger, metrics: registry, segmentBytes, maxBytes: 64 * 1024 * 1024 });
    const N = 100_000;
    let maxSegments = 0;
    try {
      // As a connector does: one appendMany per publish response, with its next sequence number as state.
      for (let i = 0; i < N; i += 250) {
        await spool.appendMany(telemetryRawV1, range(i, i + 250).map((s) => sample(s, 200)), { state: { next: i + 250 } });
        maxSegments = Math.max(maxSegments, (await readdir(dir)).filter((n) => n.endsWith('.seg')).length);
      }
      await spool.flush();
      const stats = spool.stats();
      expect(stats).toMatchObject({ bufferedRecords: 0, bufferedBytes: 0, forwarding: true, droppedRecords: 0 });
      expect(stats.oldestBufferedAt).toBeUndefined();
      // Trimmed down to the segment being written (trimming follows the acknowledgement).
      await waitFor(() => (spool.stats().diskBytes <= segmentBytes ? true : undefined), { what: `the log to be trimmed (${spool.stats().diskBytes} bytes)` });
      expect(spool.getState('next')).toBe(N);
      expect(await metricValue(registry, 'weir_spool_appended_records_total')).toBe(N);
      expect(await metricValue(registry, 'weir_spool_forwarded_records_total')).toBe(N);
      expect(await metricValue(registry, 'weir_spool_forward_errors_total')).toBe(0);
      expect(await metricValue(registry, 'weir_spool_buffered_records')).toBe(0);
      expect(await registry.getSingleMetricAsString('weir_spool_fsync_duration_seconds')).toMatch(/weir_spool_fsync_duration_seconds_count\{spool="main"\} [1-9]/);
      expect(await spool.healthCheck().check()).toMatchObject({ ok: true });
    } finally {
      await spool.close();
      await producer.close();
    }
    // ~25 MB went through 1 MiB segments, yet the log never held more than maxBytes (64 segments):
    // how far the forwarder trails the appender depends on the machine's load, the bound does not.
    expect(maxSegments).toBeGreaterThan(0);
    expect(maxSegments).toBeLessThanOrEqual(64);
    const got = inspect(await readAll(kafka, admin, topicName(telemetryRawV1, prefix)));
    expect(got.seqs).toHaveLength(N);
    expect(got.duplicates).toBe(0);
    expect(got.outOfOrder).toBe(0);
    expect(got.distinct).toBe(N);
  });

  it.each<FsyncMode>(['always', 'never'])('delivers with fsync "%s" too', async (fsync) => {
    const prefix = uniqueTopicPrefix(`spool-${fsync}`);
    await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: 1, withDlq: false });
    const producer = new BatchingProducer(kafka, { logger, topicPrefix: prefix });
    const spool = await StoreAndForwardProducer.open({ dir, producer, logger, fsync, segmentBytes: 64 * 1024, maxBytes: 1024 * 1024 });
    try {
      // Single appends, several at once: they share group commits (batch) or not (always).
      await Promise.all(range(0, 2000).map((s) => spool.append(telemetryRawV1, sample(s, 20))));
      await spool.flush();
    } finally {
      await spool.close();
      await producer.close();
    }
    const got = inspect(await readAll(kafka, admin, topicName(telemetryRawV1, prefix)));
    expect([...got.seqs].sort((a, b) => a - b)).toEqual(range(0, 2000));
    expect(got.outOfOrder).toBe(0);
  });

  it('rejects an invalid message before writing it, and state that is not JSON', async () => {
    const producer = new BatchingProducer(kafka, { logger, topicPrefix: uniqueTopicPrefix('spool-invalid') });
    const spool = await StoreAndForwardProducer.open({ dir, producer, logger, segmentBytes: 64 * 1024, maxBytes: 1024 * 1024 });
    try {
      await expect(spool.appendMany(telemetryRawV1, [sample(1), { ...sample(2), seq: -1 }])).rejects.toMatchObject({ code: 'KAFKA.INVALID_MESSAGE' });
      await expect(spool.setState('k', Number.NaN)).rejects.toMatchObject({ code: 'SPOOL.INVALID_STATE' });
      expect(spool.stats().bufferedRecords).toBe(0);
      await expect(StoreAndForwardProducer.open({ dir, producer, logger })).rejects.toMatchObject({ code: 'SPOOL.LOCKED' });
    } finally {
      await spool.close();
      await producer.close();
    }
    await expect(spool.append(telemetryRawV1, sample(3))).rejects.toMatchObject({ code: 'SPOOL.CLOSED' });
  });

  it('applies back-pressure when full (onFull "block"): appends wait, fail only when aborted, and resume once Kafka takes the backlog', async () => {
    const prefix = uniqueTopicPrefix('spool-full');
    const topic = topicName(telemetryRawV1, prefix);
    // The topic does not exist yet (auto-creation is off): every forward fails, as when Kafka refuses writes.
    const producer = new BatchingProducer(kafka, { logger, topicPrefix: prefix, retries: 1 });
    const maxBytes = 256 * 1024;
    const spool = await StoreAndForwardProducer.open({ dir, producer, logger, segmentBytes: 64 * 1024, maxBytes, retry: { initialMs: 50, maxMs: 300 } });
    let acknowledged = 0;
    let appending: Promise<void> | undefined;
    try {
      // ~270 B per record: 256 KiB hold under 1,000; 2,000 cannot fit.
      appending = (async () => {
        for (let i = 0; i < 2000; i += 50) {
          await spool.appendMany(telemetryRawV1, range(i, i + 50).map((s) => sample(s, 20)), { state: { next: i + 50 } });
          acknowledged = i + 50;
        }
      })();
      // Full: forwarding fails, the next 50 do not fit, and every append written so far has resolved
      // (appends are sequential, so the appender now waits for room, not for a slow fsync).
      await waitFor(() => {
        const s = spool.stats();
        return s.lastError !== undefined && s.diskBytes + 50 * 300 > maxBytes && s.bufferedRecords === acknowledged ? true : undefined;
      }, { what: 'the spool to fill up' });
      // Full: the appender waits; nothing more is acknowledged however long we look.
      const stuckAt = acknowledged;
      expect(stuckAt).toBeGreaterThan(0);
      expect(stuckAt).toBeLessThan(2000);
      await new Promise((r) => setTimeout(r, 500));
      expect(acknowledged).toBe(stuckAt);
      const stats = spool.stats();
      expect(stats.diskBytes).toBeLessThanOrEqual(maxBytes);
      expect(stats.bufferedRecords).toBe(stuckAt);
      expect(stats.forwarding).toBe(false);
      expect(stats.oldestBufferedAt).toBeInstanceOf(Date);
      expect(await spool.healthCheck().check()).toMatchObject({ ok: false });
      expect(await spool.livenessCheck().check()).toEqual({ ok: true });
      // An appender that cannot wait (it holds publish requests) gives up with SPOOL.FULL.
      const abort = new AbortController();
      const impatient = spool.append(telemetryRawV1, sample(99_999), { signal: abort.signal });
      abort.abort();
      await expect(impatient).rejects.toSatisfy((e: unknown) => isSpoolError(e, 'SPOOL.FULL'));

      // Kafka takes writes again: the backlog drains and the waiting appender resumes.
      await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: 2, withDlq: false });
      await appending;
      await spool.flush();
      expect(spool.stats()).toMatchObject({ bufferedRecords: 0, forwarding: true });
      expect(await spool.healthCheck().check()).toMatchObject({ ok: true });
    } finally {
      await spool.close();
      await appending?.catch(() => undefined);
      await producer.close();
    }
    expect(acknowledged).toBe(2000);
    const got = inspect(await readAll(kafka, admin, topic));
    // Every record arrives. While the topic is being created one partition can take a batch
    // that fails on the other; that failed batch is resent whole (documented in the README:
    // duplicates only in a bounded window), so repeats are allowed here, and only those.
    expect([...new Set(got.seqs)].sort((a, b) => a - b)).toEqual(range(0, 2000));
    expect(got.outOfOrderFirstSeen).toBe(0);
  });

  it('drops the oldest segment when full with onFull "drop-oldest", reports it, and delivers all the rest', async () => {
    const prefix = uniqueTopicPrefix('spool-drop');
    const producer = new BatchingProducer(kafka, { logger, topicPrefix: prefix, retries: 1 });
    const registry = new Registry();
    const drops: SpoolDrop[] = [];
    const spool = await StoreAndForwardProducer.open({
      dir,
      producer,
      logger,
      metrics: registry,
      segmentBytes: 64 * 1024,
      maxBytes: 256 * 1024,
      onFull: 'drop-oldest',
      onDrop: (d) => drops.push(d),
      retry: { initialMs: 50, maxMs: 300 },
    });
    const N = 3000;
    try {
      for (let i = 0; i < N; i += 50) await spool.appendMany(telemetryRawV1, range(i, i + 50).map((s) => sample(s, 20)));
      expect(spool.stats().diskBytes).toBeLessThanOrEqual(256 * 1024);
      expect(drops.length).toBeGreaterThan(0);
      // One partition: with two, a batch sent while the topic is being created can be taken by one
      // partition and refused by the other, and its resend repeats the taken half (the bounded
      // duplicate window the first test allows). This test is about drops, so it counts exactly.
      await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: 1, withDlq: false });
      await spool.flush();
    } finally {
      await spool.close();
      await producer.close();
    }
    const dropped = drops.reduce((s, d) => s + d.records, 0);
    expect(dropped).toBeGreaterThan(0);
    expect(spool.stats().droppedRecords).toBe(dropped);
    expect(await metricValue(registry, 'weir_spool_dropped_records_total')).toBe(dropped);
    // Drops are contiguous, oldest first, and each says when its records were appended.
    expect(drops[0]!.fromLsn).toBe(1);
    for (let i = 1; i < drops.length; i++) expect(drops[i]!.fromLsn).toBe(drops[i - 1]!.toLsn + 1);
    for (const d of drops) expect(d.firstAppendedAt.getTime()).toBeLessThanOrEqual(d.lastAppendedAt.getTime());
    expect(drops.reduce((s, d) => s + (d.byTopic[topicName(telemetryRawV1, prefix)] ?? 0), 0)).toBe(dropped);
    // Kafka holds every record that was not dropped, once. Of the dropped ones, only those that
    // were already in flight when their segment went may have arrived; none of the others.
    const got = inspect(await readAll(kafka, admin, topicName(telemetryRawV1, prefix)));
    const inKafka = new Set(got.seqs);
    for (const s of range(dropped, N)) expect(inKafka.has(s)).toBe(true);
    const arrivedAnyway = got.seqs.filter((s) => s < dropped).length;
    expect(arrivedAnyway).toBeLessThanOrEqual(drops.reduce((s, d) => s + d.inFlight, 0));
    expect(got.seqs).toHaveLength(N - dropped + arrivedAnyway);
    expect(got.duplicates).toBe(0);
    expect(got.outOfOrder).toBe(0);
  });

  it('recovers from a torn last write: the whole frames before it are sent, the state matches them, and appending resumes', async () => {
    const prefix = uniqueTopicPrefix('spool-torn');
    const topic = topicName(telemetryRawV1, prefix);
    // First run: Kafka refuses (no topic yet), so everything stays in the spool.
    const refused = new BatchingProducer(kafka, { logger, topicPrefix: prefix, retries: 1 });
    const first = await StoreAndForwardProducer.open({ dir, producer: refused, logger, segmentBytes: 1024 * 1024, maxBytes: 8 * 1024 * 1024, retry: { initialMs: 50, maxMs: 300 } });
    for (let i = 0; i < 1000; i += 100) {
      const samples = range(i, i + 100).map((s) => sample(s, 20));
      if ((i / 100) % 2 === 0) {
        await first.appendMany(telemetryRawV1, samples, { state: { next: i + 100 } });
      } else {
        // The connector's way: state set in the same tick, just before the append, goes in the append's frame.
        const stateWritten = first.setState('next', i + 100);
        await first.appendMany(telemetryRawV1, samples);
        await stateWritten;
      }
    }
    expect(first.getState('next')).toBe(1000);
    expect(first.stats().bufferedRecords).toBe(1000);
    await first.close();
    await refused.close();

    // Tear the last frame (seq 900..999 with next=1000, set by setState) as a crash mid-write would, and add junk after it.
    const [segment] = (await readdir(dir)).filter((n) => n.endsWith('.seg'));
    const path = join(dir, segment!);
    const size = (await stat(path)).size;
    await truncate(path, size - 1500);
    await appendFile(path, Buffer.alloc(700, 0));

    await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: 2, withDlq: false });
    const registry = new Registry();
    const producer = new BatchingProducer(kafka, { logger, topicPrefix: prefix });
    const second = await StoreAndForwardProducer.open({ dir, producer, logger, metrics: registry, segmentBytes: 1024 * 1024, maxBytes: 8 * 1024 * 1024 });
    try {
      // The state is that of the last whole frame: the connector carries on from 900, reusing nothing that was sent.
      expect(second.getState('next')).toBe(900);
      expect(await metricValue(registry, 'weir_spool_recovery_discarded_bytes_total')).toBeGreaterThan(700);
      const next = second.getState('next') as number;
      await second.appendMany(telemetryRawV1, range(next, next + 100).map((s) => sample(s, 20)), { state: { next: next + 100 } });
      await second.flush();
      expect(second.stats().bufferedRecords).toBe(0);
    } finally {
      await second.close();
      await producer.close();
    }
    const got = inspect(await readAll(kafka, admin, topic));
    expect([...got.seqs].sort((a, b) => a - b)).toEqual(range(0, 1000));
    expect(got.duplicates).toBe(0);
    expect(got.outOfOrder).toBe(0);
  });
});
