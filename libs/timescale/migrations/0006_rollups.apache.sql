-- 1-minute and 1-hour rollups and retention of the newer hypertables, Apache-licensed TimescaleDB.
-- Released: never edit this file; add a new numbered migration instead.
-- TimescaleDB cannot maintain aggregates itself under this licence, so telemetry_1m and telemetry_1h are
-- plain hypertables that timescale-sink maintains: each write logs the (series, minutes) it touched in
-- weir_rollup_invalidations, and the sink's rollup maintainer recomputes those buckets from the raw rows
-- (so late data is rolled up right). 0006_rollups.timescale.sql makes the same names aggregates that
-- TimescaleDB refreshes itself.

CREATE TABLE telemetry_1m (
  bucket          timestamptz      NOT NULL,
  series_id       integer          NOT NULL,
  count           bigint           NOT NULL,
  sum             double precision,
  avg             double precision,
  min             double precision,
  max             double precision,
  first           double precision,
  last            double precision,
  first_time      timestamptz,
  last_time       timestamptz,
  bad_count       bigint           NOT NULL,
  uncertain_count bigint           NOT NULL
);
SELECT create_hypertable('telemetry_1m', by_range('bucket', INTERVAL '7 days'), create_default_indexes => false);
CREATE UNIQUE INDEX telemetry_1m_series_bucket_key ON telemetry_1m (series_id, bucket DESC);
COMMENT ON TABLE telemetry_1m IS
  'Maintained by timescale-sink from telemetry (on Timescale-licensed builds TimescaleDB materialises it). One row is one minute of one numeric '
  'series: count, sum, avg, min, max, first and last (by time, then seq) over Good samples with a value; bad_count and uncertain_count count '
  'the samples left out. first_time/last_time are the source times of first and last. Buckets are recomputed from raw rows after late data.';

CREATE TABLE telemetry_1h (LIKE telemetry_1m);
SELECT create_hypertable('telemetry_1h', by_range('bucket', INTERVAL '90 days'), create_default_indexes => false);
CREATE UNIQUE INDEX telemetry_1h_series_bucket_key ON telemetry_1h (series_id, bucket DESC);
COMMENT ON TABLE telemetry_1h IS
  'Maintained by timescale-sink from telemetry_1m (on Timescale-licensed builds TimescaleDB materialises it). One row is one hour of '
  'one numeric series, with the same columns and meaning as telemetry_1m.';

CREATE TABLE weir_rollup_invalidations (
  id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ranges    bigint[]    NOT NULL,
  logged_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE weir_rollup_invalidations IS
  'Written by timescale-sink on Apache-licensed builds: one row per written batch; ranges holds (series_id, first minute, last minute) '
  'triples, minutes since the epoch, of the telemetry it wrote. The rollup maintainer consumes the rows and recomputes those buckets.';

INSERT INTO weir_retention (hypertable, drop_after, compress_after, enforced_by) VALUES
  ('telemetry_1m', INTERVAL '730 days', NULL, 'weir'),
  ('telemetry_1h', INTERVAL '3650 days', NULL, 'weir'),
  ('ot_events', INTERVAL '730 days', NULL, 'weir'),
  ('security_events', INTERVAL '365 days', NULL, 'weir'),
  ('alerts', INTERVAL '1825 days', NULL, 'weir');
