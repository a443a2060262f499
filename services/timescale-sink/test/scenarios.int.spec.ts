import {
  erpAssetsV1,
  erpProductionOrdersV1,
  erpShiftsV1,
  erpWorkOrdersV1,
  fixtures,
  itSecurityEventsV1,
  otEventsV1,
  securityAlertsV1,
  telemetryEnrichedV1,
  topicName,
  dlqTopicName,
  type OtEventV1,
  type TelemetryEnrichedV1,
  type TopicDefinition,
} from '@weir/contracts';
import { DLQ_HEADERS, type BatchingProducer } from '@weir/kafka';
import { createTestDatabase, uniqueTopicPrefix, waitFor, type TestDatabase } from '@weir/testing';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SequenceGapDetector } from '../src/completeness/sequence-gap.detector';
import { RollupMaintainer } from '../src/rollups/rollup.maintainer';
import { readMessages, sample, scalar, startSink, testKafka, testSettings, waitForCommitted, waitForCount, withDb, type RunningSink } from './helpers';

let db: TestDatabase;
let sink: RunningSink;
let kafka: Kafka;
let producer: BatchingProducer;
let prefix: string;

beforeAll(async () => {
  db = await createTestDatabase(inject('databaseUrl'), 'weir_sink');
  prefix = uniqueTopicPrefix('sink');
  sink = await startSink(testSettings({ brokers: inject('kafkaBrokers'), databaseUrl: db.url, topicPrefix: prefix }));
  ({ kafka, producer } = testKafka(inject('kafkaBrokers'), prefix));
});

afterAll(async () => {
  await producer?.close();
  await sink?.stop();
  await db?.drop();
});

const T = Date.parse('2024-03-01T08:00:00Z');
const at = (seconds: number): string => new Date(T + seconds * 1000).toISOString();

describe('events, alerts, ERP context and the DLQ', () => {
  it('writes every fixture once, records a reported gap, closes a deleted ERP record and dead-letters an undecodable message', async () => {
    const topics: TopicDefinition[] = [otEventsV1, itSecurityEventsV1, securityAlertsV1, erpAssetsV1, erpWorkOrdersV1, erpProductionOrdersV1, erpShiftsV1];
    const sendAll = async (): Promise<void> => {
      for (const t of topics) await producer.sendMany(t, fixtures[t.name]!.valid as never[]);
    };
    await sendAll();
    await producer.sendRaw(topicName(telemetryEnrichedV1, prefix), { key: 'x', value: 'not json at all' });

    const expected: Record<string, number> = { ot_events: 3, security_events: 2, alerts: 1, assets: 1, work_orders: 1, production_orders: 1, shifts: 1 };
    for (const [table, n] of Object.entries(expected)) await waitForCount(db.url, `select count(*) from ${table}`, n);
    await waitForCount(db.url, `select count(*) from data_gaps where detected_by = 'connector'`, 1);

    // The whole message is kept, and the columns analysts filter on are filled.
    const alert = await withDb(db.url, async (c) => (await c.query<{ attack_techniques: string[]; resource_uids: string[] }>('select attack_techniques, resource_uids from alerts')).rows[0]);
    expect(alert).toEqual({ attack_techniques: ['T0822', 'T0836'], resource_uids: ['filler1'] });
    const gap = await withDb(db.url, async (c) => (await c.query('select source_id, node_id, from_time, to_time, reason, event_id from data_gaps')).rows[0] as Record<string, unknown>);
    expect(gap).toEqual({ source_id: 'plant-hamburg', node_id: null, from_time: new Date('2026-11-25T08:15:00Z'), to_time: new Date('2026-11-25T08:20:00Z'), reason: 'BadHistoryOperationUnsupported', event_id: 'gap-1' });

    // A replay of the same messages changes nothing.
    await sendAll();
    await sendAll();
    for (const t of topics) await waitForCommitted(kafka, `timescale-sink.${t.name}`, topicName(t, prefix));
    for (const [table, n] of Object.entries(expected)) expect(await scalar(db.url, `select count(*) from ${table}`), table).toBe(n);

    // The undecodable message went to the DLQ with its reason, and nothing of it reached a table.
    const dead = await readMessages(kafka, dlqTopicName(telemetryEnrichedV1, prefix), 1);
    expect(dead.map((m) => ({ code: m.headers[DLQ_HEADERS.code], value: m.value }))).toEqual([{ code: 'CONTRACTS.NOT_JSON', value: 'not json at all' }]);
    expect(await scalar(db.url, 'select count(*) from telemetry')).toBe(0);

    // A tombstone closes the open version at the tombstone's time instead of deleting history.
    await producer.sendTombstone(erpWorkOrdersV1, '4000001');
    await waitForCount(db.url, `select count(*) from work_orders where id = '4000001' and valid_to is not null`, 1);
    expect(await scalar(db.url, 'select count(*) from work_orders')).toBe(1);
  });
});

describe('machine state intervals and completeness (hand-built scenario)', () => {
  const SRC = 'plant-a';
  const STATE = 'ns=3;s=M1.State';
  const REASON = 'ns=3;s=M1.DownReason';
  const SPEED = 'ns=3;s=M1.Speed';
  const s = (seq: number, nodeId: string, seconds: number, value: string | number): TelemetryEnrichedV1 =>
    sample({ sourceId: SRC, nodeId, seq, sourceTime: at(seconds), value, dataType: typeof value === 'string' ? 'String' : nodeId === REASON ? 'Int32' : 'Double' });
  // Sequence 7 and 8 arrive late (out of order); 10 and 11 never arrive.
  const wave1 = [s(1, STATE, 0, 'running'), s(2, REASON, 0, 0), s(3, SPEED, 10, 100), s(4, STATE, 60, 'down'), s(5, REASON, 60.5, 303), s(6, SPEED, 70, 0), s(9, SPEED, 100, 5), s(12, STATE, 120, 'running'), s(13, REASON, 120, 0), s(14, SPEED, 130, 120)];
  const wave2 = [s(7, STATE, 90, 'idle'), s(8, REASON, 90, 201)];

  const intervals = (): Promise<unknown[]> =>
    withDb(db.url, async (c) =>
      (
        await c.query(
          `select extract(epoch from i.start_time - $1::timestamptz)::int as "from", extract(epoch from i.end_time - $1::timestamptz)::int as "to", i.state, i.reason_code as reason
             from machine_state_intervals i join series s on s.id = i.series_id where s.node_id = $2 order by i.start_time`,
          [at(0), STATE],
        )
      ).rows,
    );
  const sequenceGaps = (): Promise<unknown[]> =>
    withDb(db.url, async (c) =>
      (
        await c.query(
          `select seq_from::int, seq_to::int, extract(epoch from from_time - $1::timestamptz)::int as "from", extract(epoch from to_time - $1::timestamptz)::int as "to"
             from data_gaps where detected_by = 'sequence' and source_id = $2 order by seq_from`,
          [at(0), SRC],
        )
      ).rows,
    );
  const rowsOfSource = `select count(*) from (select series_id from telemetry union all select series_id from telemetry_other) t join series s on s.id = t.series_id where s.source_id = '${SRC}'`;

  it('derives intervals with reasons, records the sequence holes, then re-derives both when the late samples arrive', async () => {
    await producer.sendMany(telemetryEnrichedV1, wave1);
    await waitForCount(db.url, rowsOfSource, wave1.length);
    expect(await intervals()).toEqual([
      { from: 0, to: 60, state: 'running', reason: null },
      { from: 60, to: 120, state: 'down', reason: 303 },
      { from: 120, to: null, state: 'running', reason: null },
    ]);
    const detector = sink.app.get(SequenceGapDetector);
    await detector.detectAll();
    expect(await sequenceGaps()).toEqual([
      { seq_from: 7, seq_to: 8, from: 70, to: 100 },
      { seq_from: 10, seq_to: 11, from: 100, to: 120 },
    ]);

    await producer.sendMany(telemetryEnrichedV1, wave2);
    await waitForCount(db.url, rowsOfSource, wave1.length + wave2.length);
    expect(await intervals()).toEqual([
      { from: 0, to: 60, state: 'running', reason: null },
      { from: 60, to: 90, state: 'down', reason: 303 },
      { from: 90, to: 120, state: 'idle', reason: 201 },
      { from: 120, to: null, state: 'running', reason: null },
    ]);
    await detector.detectAll();
    expect(await sequenceGaps()).toEqual([{ seq_from: 10, seq_to: 11, from: 100, to: 120 }]);
  });

  it('starts a new interval when the down reason changes while the machine stays down, also when that reason arrives late', async () => {
    const B = 'plant-b';
    const b = (seq: number, nodeId: string, seconds: number, value: string | number): TelemetryEnrichedV1 =>
      sample({ sourceId: B, nodeId, seq, sourceTime: at(seconds), value, dataType: typeof value === 'string' ? 'String' : 'Int32' });
    const ofB = () =>
      withDb(db.url, async (c) =>
        (
          await c.query(
            `select extract(epoch from i.start_time - $1::timestamptz)::int as "from", extract(epoch from i.end_time - $1::timestamptz)::int as "to", i.state, i.reason_code as reason
               from machine_state_intervals i join series s on s.id = i.series_id where s.source_id = $2 and s.node_id = $3 order by i.start_time`,
            [at(0), B, STATE],
          )
        ).rows,
      );
    const rowsOfB = `select count(*) from (select series_id from telemetry union all select series_id from telemetry_other) t join series s on s.id = t.series_id where s.source_id = '${B}'`;
    // A jam (303) that turns into an electrical fault (302) without the machine running in between.
    const first = [b(1, STATE, 0, 'down'), b(2, REASON, 0, 303), b(4, STATE, 60, 'running'), b(5, REASON, 60, 0)];
    await producer.sendMany(telemetryEnrichedV1, first);
    await waitForCount(db.url, rowsOfB, first.length);
    expect(await ofB()).toEqual([
      { from: 0, to: 60, state: 'down', reason: 303 },
      { from: 60, to: null, state: 'running', reason: null },
    ]);
    await producer.sendMany(telemetryEnrichedV1, [b(3, REASON, 40, 302)]);
    await waitForCount(db.url, rowsOfB, first.length + 1);
    await waitFor(async () => ((await ofB()).length === 3 ? true : undefined), { timeoutMs: 20_000, what: 'the interval split by the late reason' });
    expect(await ofB()).toEqual([
      { from: 0, to: 40, state: 'down', reason: 303 },
      { from: 40, to: 60, state: 'down', reason: 302 },
      { from: 60, to: null, state: 'running', reason: null },
    ]);
  });

  it('reports covered and missing intervals per series, from sequence and connector gaps', async () => {
    const gapEvent: OtEventV1 = { eventId: 'gap-m1', sourceId: SRC, kind: 'gap', type: 'connector.gap', time: at(200), severity: 300, message: 'lost', nodeId: SPEED, gap: { from: at(125), to: at(128), reason: 'BadNoCommunication' }, attributes: {} };
    await producer.send(otEventsV1, gapEvent);
    await waitForCount(db.url, `select count(*) from data_gaps where event_id = 'gap-m1'`, 1);
    const rows = await withDb(db.url, async (c) =>
      (
        await c.query(
          `select status, extract(epoch from d.from_time - $1::timestamptz)::int as "from", extract(epoch from d.to_time - $1::timestamptz)::int as "to", detected_by
             from data_completeness d join series s on s.id = d.series_id where s.node_id = $2 order by d.from_time, status`,
          [at(0), SPEED],
        )
      ).rows,
    );
    expect(rows).toEqual([
      { status: 'covered', from: 10, to: 100, detected_by: null },
      { status: 'missing', from: 100, to: 120, detected_by: 'sequence' },
      { status: 'covered', from: 120, to: 125, detected_by: null },
      { status: 'missing', from: 125, to: 128, detected_by: 'connector' },
      { status: 'covered', from: 128, to: 130, detected_by: null },
    ]);
  });

  it('changes nothing when the whole scenario is delivered again', async () => {
    const before = { intervals: await intervals(), gaps: await sequenceGaps() };
    await producer.sendMany(telemetryEnrichedV1, [...wave2, ...wave1]);
    // The replay goes through the same partitions; a marker sample written after it tells when it is done.
    await producer.send(telemetryEnrichedV1, s(15, SPEED, 140, 1));
    await waitForCount(db.url, rowsOfSource, wave1.length + wave2.length + 1);
    await sink.app.get(SequenceGapDetector).detectAll();
    expect(await intervals()).toEqual(before.intervals);
    expect(await sequenceGaps()).toEqual(before.gaps);
  });
});

// On the Timescale licence the same tables are continuous aggregates refreshed by TimescaleDB's jobs.
const apache = !(process.env['WEIR_TEST_TIMESCALE_IMAGE'] ?? '').startsWith('timescale/');

describe.runIf(apache)('rollups on the Apache licence', () => {
  const SRC = 'plant-r';
  const T0 = Date.parse('2024-03-02T10:00:00Z');
  const UNCERTAIN = 0x40000000;
  const BAD = 0x80000000;
  let seq = 0;
  const point = (series: number, ms: number, i: number): TelemetryEnrichedV1 => {
    const status = i % 17 === 0 ? BAD : i % 13 === 0 ? UNCERTAIN : 0;
    return sample({ sourceId: SRC, nodeId: `ns=2;s=R${series}.Value`, seq: ++seq, sourceTime: new Date(ms).toISOString(), value: status === BAD && i % 2 === 0 ? null : Math.round(Math.sin(i / 7 + series) * 1000) / 8 + series, status, dataType: 'Double' });
  };
  const mismatches = async (width: '1 minute' | '1 hour', table: string): Promise<unknown[]> =>
    withDb(db.url, async (c) => {
      const { rows } = await c.query(
        `with direct as (
           select time_bucket($1::interval, t.time) as bucket, t.series_id,
                  count(t.value) filter (where t.status >> 30 = 0) as count,
                  sum(t.value) filter (where t.status >> 30 = 0) as sum,
                  min(t.value) filter (where t.status >> 30 = 0) as min,
                  max(t.value) filter (where t.status >> 30 = 0) as max,
                  first(t.value, t.time) filter (where t.status >> 30 = 0 and t.value is not null) as first,
                  last(t.value, t.time) filter (where t.status >> 30 = 0 and t.value is not null) as last,
                  count(*) filter (where t.status >> 30 >= 2) as bad_count,
                  count(*) filter (where t.status >> 30 = 1) as uncertain_count
             from telemetry t join series s on s.id = t.series_id where s.source_id = $2
            group by 1, 2)
         select coalesce(d.bucket, r.bucket) as bucket, coalesce(d.series_id, r.series_id) as series_id, to_jsonb(d) as direct, to_jsonb(r) as rollup
           from direct d full join (select r.* from ${table} r join series s on s.id = r.series_id where s.source_id = $2) r using (bucket, series_id)
          where d.bucket is null or r.bucket is null
             or d.count <> r.count or d.min is distinct from r.min or d.max is distinct from r.max or d.first is distinct from r.first
             or d.last is distinct from r.last or d.bad_count <> r.bad_count or d.uncertain_count <> r.uncertain_count
             or abs(coalesce(d.sum, 0) - coalesce(r.sum, 0)) > 1e-9 * greatest(1, abs(coalesce(d.sum, 0)))
             or abs(coalesce(d.sum / nullif(d.count, 0), 0) - coalesce(r.avg, 0)) > 1e-9 * greatest(1, abs(coalesce(r.avg, 0)))`,
        [width, SRC],
      );
      return rows;
    });

  it('equals a direct time_bucket aggregate over the raw rows, before and after late data', async () => {
    const first: TelemetryEnrichedV1[] = [];
    // Three series, a sample every 7 s for 2 h 10 min.
    for (let i = 0; i < 1115; i++) for (let series = 1; series <= 3; series++) first.push(point(series, T0 + i * 7000, i));
    await producer.sendMany(telemetryEnrichedV1, first);
    const source = `select count(*) from telemetry t join series s on s.id = t.series_id where s.source_id = '${SRC}'`;
    await waitForCount(db.url, source, first.length);
    const maintainer = sink.app.get(RollupMaintainer);
    await maintainer.drain();
    expect(await scalar(db.url, `select count(*) from telemetry_1m r join series s on s.id = r.series_id where s.source_id = '${SRC}'`)).toBe(3 * 130);
    expect(await mismatches('1 minute', 'telemetry_1m')).toEqual([]);
    expect(await mismatches('1 hour', 'telemetry_1h')).toEqual([]);

    // Late data: into existing minutes (between the samples), a new extreme, and an hour before everything else.
    const late: TelemetryEnrichedV1[] = [];
    for (let i = 0; i < 300; i += 3) late.push(point(1 + (i % 3), T0 + i * 7000 + 3500, i + 1));
    late.push({ ...point(2, T0 + 42 * 60_000 + 1234, 5), value: 1e6 });
    late.push(point(3, T0 - 3_600_000 + 500, 2));
    await producer.sendMany(telemetryEnrichedV1, late);
    await waitForCount(db.url, source, first.length + late.length);
    await maintainer.drain();
    expect(await mismatches('1 minute', 'telemetry_1m')).toEqual([]);
    expect(await mismatches('1 hour', 'telemetry_1h')).toEqual([]);
    expect(await scalar(db.url, `select max(max) from telemetry_1h r join series s on s.id = r.series_id where s.source_id = '${SRC}'`)).toBe(1e6);
  });
});

// On both licences: counter_increments_1m (read by the KPIs) is the sink's to keep.
describe('the counter rollup (counter_increments_1m)', () => {
  const SRC = 'plant-c';
  const T0 = Date.parse('2024-03-03T10:00:00Z');
  let seq = 0;
  const counter = (name: string, ms: number, value: number): TelemetryEnrichedV1 =>
    sample({ sourceId: SRC, nodeId: `ns=2;s=C1.${name}`, seq: ++seq, sourceTime: new Date(ms).toISOString(), value, status: 0, dataType: 'Double' });
  // Per minute, straight from the raw rows: each Good sample's increment against the one before it (a drop is a reset
  // and counts the new value), the span they cover. Only the counter series (node ids ending in a kpi.series_roles suffix).
  const mismatches = async (): Promise<unknown[]> =>
    withDb(db.url, async (c) => {
      const { rows } = await c.query(
        `with x as (
           select t.series_id, t.time, t.value, lag(t.value) over w as prev, lag(t.time) over w as prev_time
             from telemetry t join series s on s.id = t.series_id
            where s.source_id = $1 and (s.node_id like '%.TotalCount' or s.node_id like '%.EnergyMeter') and t.status >> 30 = 0 and t.value is not null
           window w as (partition by t.series_id order by t.time, t.seq)
         ), direct as (
           select time_bucket('1 minute', time) as bucket, series_id, count(*) as samples, sum(case when value >= prev then value - prev else value end) as increment,
                  count(*) filter (where value < prev) as resets, min(prev_time) as first_prev_time, min(time) as first_time, max(time) as last_time
             from x where prev is not null group by 1, 2
         )
         select coalesce(d.bucket, r.bucket) as bucket, to_jsonb(d) as direct, to_jsonb(r) as rollup
           from direct d full join (select r.* from counter_increments_1m r join series s on s.id = r.series_id where s.source_id = $1) r using (bucket, series_id)
          where d.bucket is null or r.bucket is null or d.samples <> r.samples or d.resets <> r.resets or d.first_prev_time <> r.first_prev_time
             or d.first_time <> r.first_time or d.last_time <> r.last_time or abs(d.increment - r.increment) > 1e-9 * greatest(1, abs(d.increment))`,
        [SRC],
      );
      return rows;
    });

  it('equals the per-minute increments over the raw rows, before and after late data that changes the next minute too', async () => {
    const first: TelemetryEnrichedV1[] = [];
    // A counter every 5 s for an hour with a reset at 30 min, an energy meter, and a temperature that is no counter.
    for (let i = 0; i < 720; i++) {
      first.push(counter('TotalCount', T0 + i * 5000, i < 360 ? i * 2 : (i - 360) * 2));
      first.push(counter('EnergyMeter', T0 + i * 5000, 100 + i * 0.25));
      first.push(counter('Temperature', T0 + i * 5000, 20 + (i % 7)));
    }
    await producer.sendMany(telemetryEnrichedV1, first);
    const source = `select count(*) from telemetry t join series s on s.id = t.series_id where s.source_id = '${SRC}'`;
    await waitForCount(db.url, source, first.length);
    const maintainer = sink.app.get(RollupMaintainer);
    const pass = await maintainer.drain();
    expect(pass.counterBuckets).toBeGreaterThanOrEqual(2 * 59);
    // Two counters x 60 minutes, less the very first minute's first sample (nothing before it) -- still 60 rows each.
    expect(await scalar(db.url, `select count(*) from counter_increments_1m r join series s on s.id = r.series_id where s.source_id = '${SRC}'`)).toBe(2 * 60);
    expect(await mismatches()).toEqual([]);

    // Late: a sample above both neighbours at the end of minute 10 (the next minute then starts with a reset), and one
    // an hour after everything (a new minute after a long silence).
    await producer.sendMany(telemetryEnrichedV1, [counter('TotalCount', T0 + 10 * 60_000 + 59_999, 10_000), counter('TotalCount', T0 + 2 * 3_600_000, 5)]);
    await waitForCount(db.url, source, first.length + 2);
    await maintainer.drain();
    expect(await mismatches()).toEqual([]);
    expect(await scalar(db.url, `select sum(resets) from counter_increments_1m r join series s on s.id = r.series_id where s.source_id = '${SRC}' and s.node_id like '%.TotalCount'`)).toBe(3);
  });
});
