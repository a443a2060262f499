import type { TestDatabase } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningAnalyticsApi } from '../src/index';
import { get, KEYS, qs, queryRows, rollUp, runSql, scenarioDatabase, startTestApi, testSettings } from './helpers';

// Bucketed queries read the 1-minute rollup where it answers exactly (Good samples, avg/min/max/first/last/sum/count,
// buckets of whole minutes) and raw rows for partial minutes at the range's edges and for minutes whose rollup is
// not current yet (invalidations the sink logged and its maintainer has not recomputed). Each answer here is
// compared with the same aggregate computed straight from the raw rows.
//
// Series 20 and 21 (asset hh-m1), 2024-03-06 00:00-03:00: a sample every 7 s, value (i mod 97) / 4 (sums of
// quarters are exact in floating point, so rollup and raw must agree to the bit); every 31st Uncertain, every
// 50th Bad, every 43rd Good without a value.
const FROM = '2024-03-06T00:00:00Z';
const TO = '2024-03-06T03:00:00Z';
const SERIES = [20, 21];

let db: TestDatabase;
let api: RunningAnalyticsApi;

beforeAll(async () => {
  db = await scenarioDatabase(inject('databaseUrl'));
  await runSql(
    db.url,
    `INSERT INTO series (id, source_id, node_id, browse_path, data_type, asset_id, unit, first_seen, last_seen) VALUES
       (20, 'plc-hh', 'ns=3;s=M1.Pressure', 'M1/Pressure', 'Double', 'hh-m1', 'bar', '${FROM}', '${TO}'),
       (21, 'plc-hh', 'ns=3;s=M1.Speed', 'M1/Speed', 'Double', 'hh-m1', '1/min', '${FROM}', '${TO}');
     INSERT INTO telemetry (time, series_id, value, status, seq)
     SELECT '${FROM}'::timestamptz + make_interval(secs => 7 * i), s.id,
            CASE WHEN i % 43 = 0 THEN NULL ELSE ((i * s.id) % 97) / 4.0 END,
            CASE WHEN i % 50 = 0 THEN 2147483648 WHEN i % 31 = 0 THEN 1073741824 ELSE 0 END, i
       FROM generate_series(0, 3 * 3600 / 7 - 1) i CROSS JOIN (VALUES (20), (21)) AS s(id);`,
  );
  await rollUp(db.url, SERIES, FROM, TO);
  api = await startTestApi(testSettings(db.url, { rateLimit: { perMinute: 0, burst: 1 } }));
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

type Point = Record<string, number | string | boolean | null>;
const AGGS = ['avg', 'min', 'max', 'first', 'last', 'sum', 'count'];

async function fromApi(params: Record<string, string>): Promise<Record<number, Point[]>> {
  const res = await get(api, `/v1/timeseries?${qs({ series: SERIES.join(','), agg: AGGS.join(','), ...params })}`, { key: KEYS.admin.key });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return Object.fromEntries((res.body['series'] as { id: number; points: Point[] }[]).map((s) => [s.id, s.points]));
}

// The reference: time_bucket over the raw rows, Good samples with a value.
async function fromRaw(from: string, to: string, bucket: string, tz = 'UTC'): Promise<Record<number, Point[]>> {
  const rows = await queryRows<{ series_id: number; t: Date; avg: number; min: number; max: number; first: number; last: number; sum: number; count: number }>(
    db.url,
    `SELECT series_id, time_bucket($3::interval, time, $4::text) AS t, avg(value), min(value), max(value), first(value, time), last(value, time), sum(value), count(*)::int AS count
       FROM telemetry WHERE series_id = ANY ($5::int[]) AND time >= $1 AND time < $2 AND value IS NOT NULL AND status >> 30 = 0
      GROUP BY 1, 2 ORDER BY 1, 2`,
    [from, to, bucket, tz, SERIES],
  );
  const out: Record<number, Point[]> = Object.fromEntries(SERIES.map((id) => [id, []]));
  for (const r of rows) out[r.series_id]!.push({ t: r.t.toISOString(), avg: r.avg, min: r.min, max: r.max, first: r.first, last: r.last, sum: r.sum, count: r.count });
  return out;
}

describe('bucketed queries from the 1-minute rollup', () => {
  it.each([
    ['1-minute buckets', { from: FROM, to: TO, bucket: '1m' }, '1 minute'],
    ['15-minute buckets', { from: FROM, to: TO, bucket: '15m' }, '15 minutes'],
    ['1-hour buckets', { from: FROM, to: TO, bucket: '1h' }, '1 hour'],
    ['120 s buckets (whole minutes given in seconds)', { from: FROM, to: TO, bucket: '120s' }, '120 seconds'],
    ['a range starting and ending inside a minute', { from: '2024-03-06T00:00:30Z', to: '2024-03-06T02:59:45Z', bucket: '10m' }, '10 minutes'],
    ['local days in a time zone', { from: '2024-03-05T23:00:00Z', to: '2024-03-06T23:00:00Z', bucket: '1d', tz: 'Europe/Berlin' }, '1 day'],
  ] as const)('equal the raw aggregates: %s', async (_name, params, interval) => {
    const expected = await fromRaw(params.from, params.to, interval, 'tz' in params ? params.tz : 'UTC');
    expect(expected[20]!.length).toBeGreaterThan(0);
    expect(await fromApi(params)).toEqual(expected);
  });

  it('equal the raw aggregates with gap filling', async () => {
    const params = { from: '2024-03-06T02:00:00Z', to: '2024-03-06T04:00:00Z', bucket: '30m' };
    const filled = await fromApi({ ...params, fill: 'null' });
    const raw = await fromRaw(params.from, params.to, '30 minutes');
    expect(filled[20]!.filter((p) => !p['filled'])).toEqual(raw[20]);
    expect(filled[20]!.filter((p) => p['filled']).map((p) => p['t'])).toEqual(['2024-03-06T03:00:00.000Z', '2024-03-06T03:30:00.000Z']);
  });

  it('read the rollup: a late row is seen once its invalidation is logged, as the sink logs it with every write', async () => {
    const params = { from: FROM, to: TO, bucket: '15m' };
    // Written behind the sink's back (no invalidation): the rollup-backed answer does not see it, raw rows do.
    await runSql(db.url, `INSERT INTO telemetry (time, series_id, value, status, seq) VALUES ('2024-03-06T01:05:03.5Z', 20, 1000.25, 0, 900001)`);
    const before = (await fromApi(params))[20]!.find((p) => p['t'] === '2024-03-06T01:00:00.000Z')!;
    const raw = await fromRaw(FROM, TO, '15 minutes');
    expect(raw[20]!.find((p) => p['t'] === '2024-03-06T01:00:00.000Z')!['max']).toBe(1000.25);
    expect(before['max']).not.toBe(1000.25);
    // The invalidation the sink writes in the same transaction as the row: (series, first minute, last minute), minutes since the epoch.
    const minute = Date.parse('2024-03-06T01:05:00Z') / 60_000;
    await runSql(db.url, `INSERT INTO weir_rollup_invalidations (ranges) VALUES ('{20,${minute},${minute}}')`);
    expect(await fromApi(params)).toEqual(raw);
    // The maintainer recomputes the minute and consumes the log: same answer, now from the rollup.
    await rollUp(db.url, SERIES, FROM, TO);
    const rolled = await queryRows<{ max: number }>(db.url, `SELECT max FROM telemetry_1m WHERE series_id = 20 AND bucket = '2024-03-06T01:05:00Z'`);
    expect(rolled[0]!.max).toBe(1000.25);
    expect(await fromApi(params)).toEqual(raw);
  });

  it('answers from raw rows what the rollup cannot: other qualities, increase and integral', async () => {
    const any = await fromApi({ from: FROM, to: TO, bucket: '1h', quality: 'any', agg: 'count' });
    const counts = await queryRows<{ n: number }>(
      db.url,
      `SELECT count(*)::int AS n FROM telemetry WHERE series_id = 20 AND time >= $1 AND time < '2024-03-06T01:00:00Z' AND value IS NOT NULL`,
      [FROM],
    );
    expect(any[20]![0]!['count']).toBe(counts[0]!.n);
  });
});
