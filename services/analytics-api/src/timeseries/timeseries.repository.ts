import { Inject, Injectable } from '@nestjs/common';
import { Db } from '../common/db';

/** Aggregates a bucketed query can return. `increase` is a counter's rise (a drop counts as a reset to 0); `integral` is ∫ value dt in value·seconds. */
export const AGGREGATES = ['avg', 'min', 'max', 'first', 'last', 'sum', 'count', 'increase', 'integral'] as const;
/** One aggregate. */
export type Aggregate = (typeof AGGREGATES)[number];
/** How buckets without samples are answered. */
export const FILLS = ['none', 'null', 'locf'] as const;
/** One fill mode. */
export type Fill = (typeof FILLS)[number];
/** Which samples count: good only, good and uncertain, or all (bad samples that carry a value too). */
export const QUALITIES = { good: 0, uncertain: 1, any: 3 } as const;
/** One quality filter. */
export type Quality = keyof typeof QUALITIES;

/** One bucket of one series. */
export interface BucketRow {
  series_id: number;
  bucket: Date;
  count: number;
  avg: number | null;
  min: number | null;
  max: number | null;
  first: number | null;
  last: number | null;
  sum: number | null;
  increase: number | null;
  integral: number | null;
  filled: boolean;
}

/** One raw sample. */
export interface RawRow {
  series_id: number;
  time: string;
  seq: string;
  value: unknown;
  status: string;
  quality: string;
  origin: string;
}

// The statement is assembled only from the constant fragments below, chosen by enums; every value is a parameter.
// $1 series ids, $2 from, $3 bucket interval, $4 to, $5 time zone, $6 highest status severity (0 good, 1 uncertain, 3 bad).
const SAMPLES_FILTER = `t.series_id = ANY ($1::int[]) AND t.time >= $2::timestamptz AND t.time < $4::timestamptz AND t.value IS NOT NULL AND t.status >> 30 <= $6::int`;

const PLAIN = `d AS (
  SELECT t.series_id, time_bucket($3::interval, t.time, $5::text) AS bucket, count(*)::int AS count, avg(t.value) AS avg, min(t.value) AS min,
         max(t.value) AS max, first(t.value, t.time) AS first, last(t.value, t.time) AS last, sum(t.value) AS sum,
         NULL::float8 AS increase, NULL::float8 AS integral
    FROM telemetry t WHERE ${SAMPLES_FILTER}
   GROUP BY 1, 2)`;

// Window functions are paid only when increase or integral is asked for. A sample is held until the next one,
// but not past its bucket's end, the range end or now; the value held into a bucket from the previous one
// covers the bucket's start up to its first sample.
const WINDOWED = `w AS (
  SELECT t.series_id, t.time, t.value, time_bucket($3::interval, t.time, $5::text) AS bucket,
         lag(t.value) OVER o AS prev, lag(t.time) OVER o AS prev_time, lead(t.time) OVER o AS next_time
    FROM telemetry t WHERE ${SAMPLES_FILTER}
  WINDOW o AS (PARTITION BY t.series_id ORDER BY t.time, t.seq)),
d AS (
  SELECT w.series_id, w.bucket, count(*)::int AS count, avg(w.value) AS avg, min(w.value) AS min, max(w.value) AS max,
         first(w.value, w.time) AS first, last(w.value, w.time) AS last, sum(w.value) AS sum,
         sum(CASE WHEN w.prev IS NULL THEN 0 WHEN w.value >= w.prev THEN w.value - w.prev ELSE w.value END) AS increase,
         sum(w.value * greatest(0, extract(epoch FROM least(coalesce(w.next_time, $4::timestamptz), w.bucket + $3::interval, $4::timestamptz, now()) - w.time))
             + CASE WHEN w.prev_time < w.bucket THEN w.prev * extract(epoch FROM w.time - w.bucket) ELSE 0 END) AS integral
    FROM w GROUP BY 1, 2)`;

// The same aggregates from the 1-minute rollup (telemetry_1m) where it is exact: whole minutes [$7, $8) whose
// rollup row is current. The partial minutes at the range's edges and the minutes writers have logged in
// weir_rollup_invalidations that the sink's rollup maintainer has not recomputed yet (late data, a replay)
// are aggregated from the raw rows instead; both parts are combined per bucket (avg as sum / count, first and
// last by their sample times). Buckets must be whole minutes on minute boundaries. Apache-licensed builds only.
const ROLLUP = `dirty AS (
  SELECT w.ranges[i]::int AS series_id, tstzrange(to_timestamp(w.ranges[i + 1] * 60), to_timestamp((w.ranges[i + 2] + 1) * 60), '[)') AS r
    FROM weir_rollup_invalidations w, generate_series(1, coalesce(array_length(w.ranges, 1), 0), 3) AS i
   WHERE w.ranges[i] = ANY ($1::int[])),
from_raw AS (
  SELECT s.id AS series_id, p.r
    FROM unnest($1::int[]) AS s(id)
   CROSS JOIN LATERAL unnest((
     SELECT range_agg(x.r) FROM (
       SELECT tstzrange($2::timestamptz, $7::timestamptz, '[)') AS r
       UNION ALL SELECT tstzrange($8::timestamptz, $4::timestamptz, '[)')
       UNION ALL SELECT d.r * tstzrange($2::timestamptz, $4::timestamptz, '[)') FROM dirty d WHERE d.series_id = s.id) x
      WHERE NOT isempty(x.r))) AS p(r)),
parts AS (
  SELECT f.series_id, time_bucket($3::interval, t.time, $5::text) AS bucket, count(*) AS count, sum(t.value) AS sum, min(t.value) AS min, max(t.value) AS max,
         first(t.value, t.time) AS first, min(t.time) AS first_time, last(t.value, t.time) AS last, max(t.time) AS last_time
    FROM from_raw f
   -- one index range scan per piece (OFFSET 0 keeps the planner from turning this into a join over all of telemetry)
   CROSS JOIN LATERAL (
     SELECT t.time, t.value FROM telemetry t
      WHERE t.series_id = f.series_id AND t.time >= lower(f.r) AND t.time < upper(f.r) AND t.value IS NOT NULL AND t.status >> 30 <= $6::int
     OFFSET 0) t
   GROUP BY 1, 2
  UNION ALL
  SELECT m.series_id, time_bucket($3::interval, m.bucket, $5::text), m.count, m.sum, m.min, m.max, m.first, m.first_time, m.last, m.last_time
    FROM telemetry_1m m
   WHERE m.series_id = ANY ($1::int[]) AND m.bucket >= $7::timestamptz AND m.bucket < $8::timestamptz AND m.count > 0
     AND NOT EXISTS (SELECT 1 FROM dirty d WHERE d.series_id = m.series_id AND d.r @> m.bucket)),
d AS (
  SELECT p.series_id, p.bucket, sum(p.count)::int AS count, sum(p.sum) / sum(p.count) AS avg, min(p.min) AS min, max(p.max) AS max,
         first(p.first, p.first_time) AS first, last(p.last, p.last_time) AS last, sum(p.sum) AS sum, NULL::float8 AS increase, NULL::float8 AS integral
    FROM parts p GROUP BY 1, 2)`;

// Buckets of the range in the session's time zone (set to $5), aligned as time_bucket aligns them.
const GRID = `grid AS (
  SELECT s.id AS series_id, g.bucket
    FROM unnest($1::int[]) AS s(id)
   CROSS JOIN generate_series(time_bucket($3::interval, $2::timestamptz, $5::text), $4::timestamptz - interval '1 microsecond', $3::interval) AS g(bucket))`;

const FINAL: Record<Fill, string> = {
  none: `SELECT d.*, false AS filled FROM d ORDER BY d.series_id, d.bucket`,
  null: `SELECT g.series_id, g.bucket, coalesce(d.count, 0) AS count, d.avg, d.min, d.max, d.first, d.last, d.sum, d.increase, d.integral, d.count IS NULL AS filled
           FROM grid g LEFT JOIN d ON d.series_id = g.series_id AND d.bucket = g.bucket ORDER BY g.series_id, g.bucket`,
  // Last observation carried forward: every bucket after one with data repeats its values (count, sum, increase
  // and integral are 0/null: nothing was observed); buckets before the first observation stay null.
  locf: `SELECT j.series_id, j.bucket, coalesce(j.count, 0) AS count,
                max(j.avg) OVER p AS avg, max(j.min) OVER p AS min, max(j.max) OVER p AS max, max(j.first) OVER p AS first, max(j.last) OVER p AS last,
                CASE WHEN j.count IS NULL THEN NULL ELSE j.sum END AS sum, CASE WHEN j.count IS NULL AND j.grp > 0 THEN 0 ELSE j.increase END AS increase,
                j.integral, j.count IS NULL AS filled
           FROM (SELECT g.series_id, g.bucket, d.count, d.avg, d.min, d.max, d.first, d.last, d.sum, d.increase, d.integral,
                        count(d.count) OVER (PARTITION BY g.series_id ORDER BY g.bucket) AS grp
                   FROM grid g LEFT JOIN d ON d.series_id = g.series_id AND d.bucket = g.bucket) j
         WINDOW p AS (PARTITION BY j.series_id, j.grp)
          ORDER BY j.series_id, j.bucket`,
};

/** What a bucketed query asks for. */
export interface BucketedQuery {
  seriesIds: number[];
  from: Date;
  to: Date;
  /** A PostgreSQL interval from parseBucketWidth (`5 minutes`, `1 days`). */
  bucket: string;
  timeZone: string;
  quality: Quality;
  fill: Fill;
  /** increase or integral asked for (they need every sample). */
  windowed: boolean;
}

/**
 * Where a bucketed query can read: `rollup` when telemetry_1m is the table timescale-sink maintains (Apache
 * licence, with its invalidation log), `raw` otherwise (on Timescale-licensed builds it is a continuous
 * aggregate whose pending invalidations are not readable through a stable interface).
 */
export type RollupSource = 'rollup' | 'raw';

const MINUTE_MS = 60_000;
// From 1972 on every time zone's UTC offset is a whole number of minutes, so local bucket boundaries fall on minute boundaries.
const WHOLE_MINUTE_OFFSETS_FROM = Date.UTC(1972, 0, 1);
const BUCKET = /^(\d+) (seconds|minutes|hours|days)$/;

/** Whether buckets of this width (an interval from parseBucketWidth) are whole numbers of minutes. */
export function isWholeMinutes(bucket: string): boolean {
  const m = BUCKET.exec(bucket);
  return m !== null && (m[2] !== 'seconds' || Number(m[1]) % 60 === 0);
}

/**
 * The statement of a bucketed query and its parameters. It reads the 1-minute rollup when `source` is
 * `rollup` and the rollup answers the query exactly: Good samples only, no increase or integral, a bucket
 * that is a whole number of minutes, and at least one whole minute in the range; the raw hypertable otherwise.
 */
export function bucketedStatement(q: BucketedQuery, source: RollupSource): { text: string; values: unknown[]; rollup: boolean } {
  const values: unknown[] = [q.seriesIds, q.from, q.bucket, q.to, q.timeZone, QUALITIES[q.quality]];
  const lo = Math.ceil(q.from.getTime() / MINUTE_MS) * MINUTE_MS;
  const hi = Math.floor(q.to.getTime() / MINUTE_MS) * MINUTE_MS;
  const rollup = source === 'rollup' && q.quality === 'good' && !q.windowed && isWholeMinutes(q.bucket) && q.from.getTime() >= WHOLE_MINUTE_OFFSETS_FROM && lo < hi;
  if (rollup) values.push(new Date(lo), new Date(hi));
  const text = `WITH ${rollup ? ROLLUP : q.windowed ? WINDOWED : PLAIN}${q.fill === 'none' ? '' : `, ${GRID}`} ${FINAL[q.fill]}`;
  return { text, values, rollup };
}

// One JSON member per aggregate, from the enum only (an aggregate name never reaches the SQL text otherwise).
const POINT_MEMBERS: Record<Aggregate, string> = {
  avg: `'avg', f.avg`,
  min: `'min', f.min`,
  max: `'max', f.max`,
  first: `'first', f.first`,
  last: `'last', f.last`,
  sum: `'sum', f.sum`,
  count: `'count', f.count`,
  increase: `'increase', f.increase`,
  integral: `'integral', f.integral`,
};
// The bucket start as Date.prototype.toISOString writes it.
const POINT_TIME = `to_char(f.bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * A bucketed query answered as JSON text per series: one row per series with `points`, the JSON array of
 * `{t, filled?, <aggregates in the order asked>}` objects in bucket order. PostgreSQL writes the JSON (json, not
 * jsonb: float8 keeps its shortest exact form, as JSON.stringify writes it), so the service does not parse and
 * re-serialise every point of a large answer.
 */
export function bucketedJsonStatement(q: BucketedQuery, aggregates: readonly Aggregate[], source: RollupSource): { text: string; values: unknown[]; rollup: boolean } {
  const inner = bucketedStatement(q, source);
  const members = aggregates.map((a) => POINT_MEMBERS[a]).join(', ');
  const tail = members === '' ? '' : `, ${members}`;
  const text = `SELECT f.series_id, json_agg(CASE WHEN f.filled THEN json_build_object('t', ${POINT_TIME}, 'filled', true${tail})
                                            ELSE json_build_object('t', ${POINT_TIME}${tail}) END ORDER BY f.bucket)::text AS points
                  FROM (${inner.text}) f GROUP BY f.series_id`;
  return { text, values: inner.values, rollup: inner.rollup };
}

/** Time-series queries over the telemetry hypertable and its 1-minute rollup. */
@Injectable()
export class TimeseriesRepository {
  private source: Promise<RollupSource> | undefined;

  constructor(@Inject(Db) private readonly db: Db) {}

  /** Bucketed aggregates of numeric series; buckets start at local bucket boundaries in `timeZone`. */
  async bucketed(q: BucketedQuery): Promise<BucketRow[]> {
    const { text, values } = bucketedStatement(q, await this.rollupSource());
    return this.db.inTimeZone(q.timeZone, async (c) => {
      // A wide range makes the estimated cost high enough for JIT compilation, which costs seconds and buys nothing here.
      await c.query(`SELECT set_config('jit', 'off', true)`);
      return (await c.query<BucketRow>(text, values)).rows;
    });
  }

  /** The same as `bucketed`, as JSON text per series id (see bucketedJsonStatement); series without points are absent. */
  async bucketedJson(q: BucketedQuery, aggregates: readonly Aggregate[]): Promise<Map<number, string>> {
    const { text, values } = bucketedJsonStatement(q, aggregates, await this.rollupSource());
    const rows = await this.db.inTimeZone(q.timeZone, async (c) => {
      await c.query(`SELECT set_config('jit', 'off', true)`);
      return (await c.query<{ series_id: number; points: string }>(text, values)).rows;
    });
    return new Map(rows.map((r) => [r.series_id, r.points]));
  }

  /** Whether telemetry_1m is the sink-maintained table (looked up once; a failed lookup is retried next time). */
  private rollupSource(): Promise<RollupSource> {
    this.source ??= this.db
      .query<{ source: RollupSource }>(
        `SELECT CASE WHEN c.relkind = 'r' AND to_regclass('weir_rollup_invalidations') IS NOT NULL THEN 'rollup' ELSE 'raw' END AS source
           FROM pg_class c WHERE c.oid = to_regclass('telemetry_1m')`,
      )
      .then((rows) => rows[0]?.source ?? 'raw')
      .catch((err: unknown) => {
        this.source = undefined;
        throw err;
      });
    return this.source;
  }

  /** Raw samples (numeric and other) in time order, keyset-paged after (time, series, seq). */
  raw(q: { seriesIds: number[]; from: Date; to: Date; quality: Quality; after: { time: string; seriesId: number; seq: string } | null; limit: number }): Promise<RawRow[]> {
    return this.db.query<RawRow>(
      `SELECT x.series_id, to_char(x.time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS time, x.seq::text AS seq, x.value,
              x.status::text AS status, opcua_status_severity(x.status) AS quality, x.origin::text AS origin
         FROM (
           SELECT t.series_id, t.time, t.seq, to_jsonb(t.value) AS value, t.status, t.origin FROM telemetry t
            WHERE t.series_id = ANY ($1::int[]) AND t.time >= $2 AND t.time < $3 AND t.status >> 30 <= $4::int
              AND ($5::timestamptz IS NULL OR (t.time, t.series_id, t.seq) > ($5::timestamptz, $6::int, $7::bigint))
           UNION ALL
           SELECT o.series_id, o.time, o.seq, coalesce(to_jsonb(o.value_bool), to_jsonb(o.value_text), o.value_json), o.status, o.origin FROM telemetry_other o
            WHERE o.series_id = ANY ($1::int[]) AND o.time >= $2 AND o.time < $3 AND o.status >> 30 <= $4::int
              AND ($5::timestamptz IS NULL OR (o.time, o.series_id, o.seq) > ($5::timestamptz, $6::int, $7::bigint))
         ) x
        ORDER BY x.time, x.series_id, x.seq LIMIT $8`,
      [q.seriesIds, q.from, q.to, QUALITIES[q.quality], q.after?.time ?? null, q.after?.seriesId ?? null, q.after?.seq ?? null, q.limit],
    );
  }
}
