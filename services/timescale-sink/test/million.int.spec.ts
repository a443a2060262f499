import { createHash } from 'node:crypto';
import { telemetryEnrichedV1, topicName, type TelemetryEnrichedV1 } from '@weir/contracts';
import { createTestDatabase, metricValue, uniqueTopicPrefix, type TestDatabase } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SequenceGapDetector } from '../src/completeness/sequence-gap.detector';
import { sample, scalar, startSink, testKafka, testSettings, waitForCommitted, waitForCount, withDb } from './helpers';

// 1,000,000 samples: 2 sources x 500,000 sequence numbers over 500 series each (1,000 series),
// 10 ms apart per source. Values are multiples of 1/8 so their text form is exact in JS and SQL.
const TOTAL = 1_000_000;
const SERIES_PER_SOURCE = 500;
const BASE = Date.parse('2024-05-01T00:00:00Z');

function nth(i: number): TelemetryEnrichedV1 {
  const source = i % 2;
  const seq = Math.floor(i / 2);
  return sample({ sourceId: `m-src-${source}`, nodeId: `ns=2;s=Tag${seq % SERIES_PER_SOURCE}`, seq, sourceTime: new Date(BASE + seq * 10).toISOString(), value: (seq % 8000) / 8, status: seq % 101 === 0 ? 1073741824 : 0, dataType: 'Double' });
}

// The same text per row as the SQL below, rows ordered by source then sequence number.
function inputChecksum(): string {
  const hash = createHash('md5');
  for (let source = 0; source < 2; source++) {
    for (let seq = 0; seq < TOTAL / 2; seq++) {
      const s = nth(seq * 2 + source);
      hash.update(`${s.sourceId}|${s.nodeId}|${s.seq}|${s.value as number}|${s.status}|${Date.parse(s.sourceTime)}\n`);
    }
  }
  return hash.digest('hex');
}

const CHECKSUM_SQL = `
  select md5(string_agg(s.source_id || '|' || s.node_id || '|' || t.seq || '|' || t.value || '|' || t.status || '|' || (extract(epoch from t.time) * 1000)::bigint || E'\\n', '' order by s.source_id, t.seq))
    from telemetry t join series s on s.id = t.series_id`;

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase(inject('databaseUrl'), 'weir_sink_1m');
});
afterAll(async () => {
  await db?.drop();
});

describe('1,000,000 samples through the sink', () => {
  it('stores exactly the input (count and checksum), and a replay of the whole topic from offset 0 adds nothing', { timeout: 900_000 }, async () => {
    const prefix = uniqueTopicPrefix('sink-1m');
    const brokers = inject('kafkaBrokers');
    const settings = testSettings({ brokers, databaseUrl: db.url, topicPrefix: prefix, sink: { feeds: ['telemetry'] } });
    const { kafka, producer } = testKafka(brokers, prefix);
    const topic = topicName(telemetryEnrichedV1, prefix);
    const group = `timescale-sink.${telemetryEnrichedV1.name}`;

    let sink = await startSink(settings);
    try {
      // Produced while the sink consumes, as in production.
      const CHUNK = 50_000;
      for (let from = 0; from < TOTAL; from += CHUNK) await producer.sendMany(telemetryEnrichedV1, Array.from({ length: CHUNK }, (_, k) => nth(from + k)));
      await producer.close();
      await waitForCount(db.url, 'select count(*) from telemetry', TOTAL, 600_000);
      await waitForCommitted(kafka, group, topic);
    } finally {
      await sink.stop();
    }
    const expected = inputChecksum();
    expect(await scalar(db.url, 'select count(*) from telemetry')).toBe(TOTAL);
    expect(await withDb(db.url, async (c) => (await c.query<{ md5: string }>(CHECKSUM_SQL)).rows[0]!.md5)).toBe(expected);
    expect(await scalar(db.url, 'select count(*) from series')).toBe(2 * SERIES_PER_SOURCE);

    // Replay: the same group, rewound to offset 0 on every partition.
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.resetOffsets({ groupId: group, topic, earliest: true });
    } finally {
      await admin.disconnect();
    }
    sink = await startSink(settings);
    try {
      await waitForCommitted(kafka, group, topic, 600_000);
      const deduplicated = await metricValue(sink.registry, 'weir_sink_rows_deduplicated_total');
      expect(deduplicated).toBe(TOTAL);
      // No holes in either source's sequence numbers.
      const detections = await sink.app.get(SequenceGapDetector).detectAll();
      expect(detections.flatMap((d) => d.gaps)).toEqual([]);
    } finally {
      await sink.stop();
    }
    expect(await scalar(db.url, 'select count(*) from telemetry')).toBe(TOTAL);
    expect(await withDb(db.url, async (c) => (await c.query<{ md5: string }>(CHECKSUM_SQL)).rows[0]!.md5)).toBe(expected);
    expect(await scalar(db.url, `select count(*) from data_gaps`)).toBe(0);
    expect(await scalar(db.url, `select max(through_seq) from weir_seq_watermark`)).toBe(TOTAL / 2 - 1);
  });
});
