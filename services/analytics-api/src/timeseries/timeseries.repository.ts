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

/** Time-series queries over the raw telemetry hypertable. */
@Injectable()
export class TimeseriesRepository {
  constructor(@Inject(Db) private readonly db: Db) {}

  /** Bucketed aggregates of numeric series; buckets start at local bucket boundaries in `timeZone`. */
  bucketed(q: { seriesIds: number[]; from: Date; to: Date; bucket: string; timeZone: string; quality: Quality; fill: Fill; windowed: boolean }): Promise<BucketRow[]> {
    const sql = `WITH ${q.windowed ? WINDOWED : PLAIN}${q.fill === 'none' ? '' : `, ${GRID}`} ${FINAL[q.fill]}`;
    return this.db.inTimeZone(q.timeZone, async (c) => (await c.query<BucketRow>(sql, [q.seriesIds, q.from, q.bucket, q.to, q.timeZone, QUALITIES[q.quality]])).rows);
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
