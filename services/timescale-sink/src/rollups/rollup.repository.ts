import { Inject, Injectable } from '@nestjs/common';
import type { ClientBase, Pool } from 'pg';
import { withTransaction } from '../common/db';
import { StorageEdition } from '../common/storage-edition';
import { PG_POOL } from '../common/tokens';

/** What one refresh pass did. */
export interface RollupRefresh {
  /** (series, minute) buckets taken from the invalidation log. */
  invalidations: number;
  /** (series, minute) buckets recomputed. */
  minuteBuckets: number;
  /** (series, hour) buckets recomputed. */
  hourBuckets: number;
  /** (counter series, minute) rows of counter_increments_1m written. */
  counterBuckets: number;
  /** (series, minute) buckets put back because they have not settled yet. */
  deferred: number;
}

// Serialises maintainers of several sink instances: recomputations of one bucket must not interleave.
const LOCK_KEY = [1466271602, 2] as const;

// Good quality: the top two bits of the StatusCode are 00.
const GOOD = 't.status >> 30 = 0';

/**
 * The rollups the sink keeps: counter_increments_1m (the KPIs' counter
 * increments per minute) on both licences, and on Apache-licensed builds the
 * 1-minute and 1-hour rollups (telemetry_1m, telemetry_1h), which TimescaleDB
 * materialises itself under the Timescale licence.
 *
 * Writers log which (series, minutes) each batch touched (`invalidate`, in the
 * batch's transaction). `refresh` consumes the log, recomputes every touched
 * minute from the raw rows (so late data lands in the right bucket and a replay
 * changes nothing) and every touched hour from the minutes. A minute that has
 * not ended `settleMs` ago is put back for a later pass, so a bucket that is
 * still filling is not re-read on every pass.
 */
@Injectable()
export class RollupRepository {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(StorageEdition) private readonly edition: StorageEdition,
  ) {}

  /** Logs (series id, first minute, last minute) triples of written rows, inside the writer's transaction. */
  async invalidate(client: ClientBase, ranges: readonly number[]): Promise<void> {
    if (ranges.length === 0) return;
    await client.query('INSERT INTO weir_rollup_invalidations (ranges) VALUES ($1::bigint[])', [ranges]);
  }

  /** Consumes up to `maxRows` invalidation rows and recomputes their settled buckets, in one transaction. */
  async refresh(settleMs: number, maxRows = 1000): Promise<RollupRefresh> {
    return withTransaction(this.pool, async (client) => {
      // A backlog (after an outage, or a replay) can take longer than the pool's statement timeout.
      await client.query(`SET LOCAL statement_timeout = '10min'`);
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...LOCK_KEY]);
      const taken = await client.query(
        `CREATE TEMPORARY TABLE weir_rollup_dirty ON COMMIT DROP AS
         WITH taken AS (
           DELETE FROM weir_rollup_invalidations WHERE id IN (SELECT id FROM weir_rollup_invalidations ORDER BY id LIMIT $1) RETURNING ranges
         ), triples AS (
           SELECT t.ranges[i]::integer AS series_id, t.ranges[i + 1] AS from_minute, t.ranges[i + 2] AS to_minute
             FROM taken t, generate_series(1, coalesce(array_length(t.ranges, 1), 0), 3) AS i
         )
         SELECT DISTINCT series_id, to_timestamp(m * 60) AS bucket FROM triples, generate_series(from_minute, to_minute) AS m`,
        [maxRows],
      );
      const invalidations = taken.rowCount ?? 0;
      if (invalidations === 0) return { invalidations: 0, minuteBuckets: 0, hourBuckets: 0, counterBuckets: 0, deferred: 0 };
      const cutoff = `now() - make_interval(secs => $1::double precision / 1000)`;
      const deferred = await client.query<{ n: string }>(
        `WITH young AS (DELETE FROM weir_rollup_dirty WHERE bucket + interval '1 minute' > ${cutoff} RETURNING series_id, bucket),
         put_back AS (
           INSERT INTO weir_rollup_invalidations (ranges)
           SELECT array_agg(v ORDER BY y.series_id, y.bucket, o.n)
             FROM young y, unnest(ARRAY[y.series_id::bigint, (extract(epoch FROM y.bucket) / 60)::bigint, (extract(epoch FROM y.bucket) / 60)::bigint]) WITH ORDINALITY AS o(v, n)
           HAVING count(*) > 0
           RETURNING 1)
         SELECT (SELECT count(*) FROM young) AS n`,
        [settleMs],
      );
      await client.query('ANALYZE weir_rollup_dirty');
      const counters = await this.recomputeCounters(client);
      const minutes = this.edition.sinkMaintained ? await this.recomputeMinutes(client) : 0;
      const hours = this.edition.sinkMaintained ? await this.recomputeHours(client) : 0;
      return { invalidations, minuteBuckets: minutes, hourBuckets: hours, counterBuckets: counters, deferred: Number(deferred.rows[0]?.n ?? 0) };
    });
  }

  /**
   * counter_increments_1m for the touched minutes of counter series (kpi.refresh_counter_increments picks them and
   * also redoes each run's next minute with data), one call per run of consecutive touched minutes of a series.
   */
  private async recomputeCounters(client: ClientBase): Promise<number> {
    const { rows } = await client.query<{ written: string | null }>(
      `WITH runs AS (
         SELECT series_id, bucket, bucket - (row_number() OVER (PARTITION BY series_id ORDER BY bucket)) * interval '1 minute' AS run
           FROM weir_rollup_dirty
          WHERE series_id IN (SELECT s.id FROM series s JOIN kpi.series_roles r ON right(s.node_id, length(r.node_suffix)) = r.node_suffix)
       ), calls AS (
         SELECT kpi.refresh_counter_increments(min(bucket), max(bucket), ARRAY[series_id]) AS n FROM runs GROUP BY series_id, run
       )
       SELECT sum(n) AS written FROM calls`,
    );
    return Number(rows[0]?.written ?? 0);
  }

  private async recomputeMinutes(client: ClientBase): Promise<number> {
    await client.query(`DELETE FROM telemetry_1m r USING weir_rollup_dirty d WHERE r.series_id = d.series_id AND r.bucket = d.bucket`);
    const { rowCount } = await client.query(
      `INSERT INTO telemetry_1m (bucket, series_id, count, sum, avg, min, max, first, last, first_time, last_time, bad_count, uncertain_count)
       SELECT d.bucket, d.series_id,
              count(t.value) FILTER (WHERE ${GOOD}),
              sum(t.value) FILTER (WHERE ${GOOD}),
              avg(t.value) FILTER (WHERE ${GOOD}),
              min(t.value) FILTER (WHERE ${GOOD}),
              max(t.value) FILTER (WHERE ${GOOD}),
              (array_agg(t.value ORDER BY t.time, t.seq) FILTER (WHERE ${GOOD} AND t.value IS NOT NULL))[1],
              (array_agg(t.value ORDER BY t.time DESC, t.seq DESC) FILTER (WHERE ${GOOD} AND t.value IS NOT NULL))[1],
              min(t.time) FILTER (WHERE ${GOOD} AND t.value IS NOT NULL),
              max(t.time) FILTER (WHERE ${GOOD} AND t.value IS NOT NULL),
              count(*) FILTER (WHERE t.status >> 30 >= 2),
              count(*) FILTER (WHERE t.status >> 30 = 1)
         FROM weir_rollup_dirty d
         JOIN telemetry t ON t.series_id = d.series_id AND t.time >= d.bucket AND t.time < d.bucket + interval '1 minute'
        GROUP BY d.bucket, d.series_id`,
    );
    return rowCount ?? 0;
  }

  private async recomputeHours(client: ClientBase): Promise<number> {
    await client.query(`CREATE TEMPORARY TABLE weir_rollup_dirty_h ON COMMIT DROP AS SELECT DISTINCT series_id, time_bucket(interval '1 hour', bucket) AS bucket FROM weir_rollup_dirty`);
    await client.query(`DELETE FROM telemetry_1h r USING weir_rollup_dirty_h d WHERE r.series_id = d.series_id AND r.bucket = d.bucket`);
    const { rowCount } = await client.query(
      `INSERT INTO telemetry_1h (bucket, series_id, count, sum, avg, min, max, first, last, first_time, last_time, bad_count, uncertain_count)
       SELECT d.bucket, d.series_id, sum(m.count)::bigint, sum(m.sum), sum(m.sum) / nullif(sum(m.count), 0), min(m.min), max(m.max),
              (array_agg(m.first ORDER BY m.first_time) FILTER (WHERE m.first_time IS NOT NULL))[1],
              (array_agg(m.last ORDER BY m.last_time DESC) FILTER (WHERE m.last_time IS NOT NULL))[1],
              min(m.first_time), max(m.last_time), sum(m.bad_count)::bigint, sum(m.uncertain_count)::bigint
         FROM weir_rollup_dirty_h d
         JOIN telemetry_1m m ON m.series_id = d.series_id AND m.bucket >= d.bucket AND m.bucket < d.bucket + interval '1 hour'
        GROUP BY d.bucket, d.series_id`,
    );
    return rowCount ?? 0;
  }
}
