-- 1-minute and 1-hour rollups and retention of the newer hypertables, Timescale-licensed TimescaleDB.
-- Released: never edit this file; add a new numbered migration instead.
-- Same names, columns and meaning as 0006_rollups.apache.sql, as continuous aggregates refreshed by
-- TimescaleDB's own jobs. Not exercised by the default test run (the local image is Apache-licensed);
-- run the tests with WEIR_TEST_TIMESCALE_IMAGE=timescale/timescaledb:<tag> to check it.
-- first/last order by time only here (first(value, time)); the Apache path breaks ties by seq.

CREATE MATERIALIZED VIEW telemetry_1m WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS
SELECT time_bucket(INTERVAL '1 minute', time) AS bucket,
       series_id,
       count(value) FILTER (WHERE status >> 30 = 0) AS count,
       sum(value) FILTER (WHERE status >> 30 = 0) AS sum,
       avg(value) FILTER (WHERE status >> 30 = 0) AS avg,
       min(value) FILTER (WHERE status >> 30 = 0) AS min,
       max(value) FILTER (WHERE status >> 30 = 0) AS max,
       first(value, time) FILTER (WHERE status >> 30 = 0 AND value IS NOT NULL) AS first,
       last(value, time) FILTER (WHERE status >> 30 = 0 AND value IS NOT NULL) AS last,
       min(time) FILTER (WHERE status >> 30 = 0 AND value IS NOT NULL) AS first_time,
       max(time) FILTER (WHERE status >> 30 = 0 AND value IS NOT NULL) AS last_time,
       count(*) FILTER (WHERE status >> 30 >= 2) AS bad_count,
       count(*) FILTER (WHERE status >> 30 = 1) AS uncertain_count
  FROM telemetry
 GROUP BY 1, 2
  WITH NO DATA;
COMMENT ON MATERIALIZED VIEW telemetry_1m IS
  'Continuous aggregate of telemetry (timescale-sink maintains a table of the same name on Apache-licensed builds). One row is one minute of one '
  'numeric series: count, sum, avg, min, max, first and last over Good samples with a value; bad_count and uncertain_count count the samples left out.';
-- start_offset NULL: the whole history is in the refresh window, so late data of any age is rolled up
-- (a refresh only materialises invalidated buckets, so this costs nothing when nothing is late).
SELECT add_continuous_aggregate_policy('telemetry_1m', start_offset => NULL, end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute');

CREATE MATERIALIZED VIEW telemetry_1h WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS
SELECT time_bucket(INTERVAL '1 hour', bucket) AS bucket,
       series_id,
       sum(count)::bigint AS count,
       sum(sum) AS sum,
       sum(sum) / nullif(sum(count), 0) AS avg,
       min(min) AS min,
       max(max) AS max,
       first(first, first_time) AS first,
       last(last, last_time) AS last,
       min(first_time) AS first_time,
       max(last_time) AS last_time,
       sum(bad_count)::bigint AS bad_count,
       sum(uncertain_count)::bigint AS uncertain_count
  FROM telemetry_1m
 GROUP BY 1, 2
  WITH NO DATA;
COMMENT ON MATERIALIZED VIEW telemetry_1h IS
  'Hierarchical continuous aggregate of telemetry_1m. One row is one hour of one numeric series, with the same columns and meaning as telemetry_1m.';
SELECT add_continuous_aggregate_policy('telemetry_1h', start_offset => NULL, end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '5 minutes');

-- Kept so both editions have the same tables; nothing writes it on this licence.
CREATE TABLE weir_rollup_invalidations (
  id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ranges    bigint[]    NOT NULL,
  logged_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE weir_rollup_invalidations IS
  'Unused on Timescale-licensed builds (continuous aggregates track their own invalidations); on Apache-licensed builds timescale-sink logs '
  'the (series_id, first minute, last minute) triples of each written batch here for its rollup maintainer.';

INSERT INTO weir_retention (hypertable, drop_after, compress_after, enforced_by) VALUES
  ('telemetry_1m', INTERVAL '730 days', NULL, 'timescaledb'),
  ('telemetry_1h', INTERVAL '3650 days', NULL, 'timescaledb'),
  ('ot_events', INTERVAL '730 days', NULL, 'timescaledb'),
  ('security_events', INTERVAL '365 days', NULL, 'timescaledb'),
  ('alerts', INTERVAL '1825 days', NULL, 'timescaledb');
SELECT add_retention_policy('telemetry_1m', INTERVAL '730 days');
SELECT add_retention_policy('telemetry_1h', INTERVAL '3650 days');
SELECT add_retention_policy('ot_events', INTERVAL '730 days');
SELECT add_retention_policy('security_events', INTERVAL '365 days');
SELECT add_retention_policy('alerts', INTERVAL '1825 days');
