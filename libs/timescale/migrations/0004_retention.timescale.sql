-- Retention and compression, Timescale-licensed TimescaleDB (timescale/timescaledb images, Timescale Cloud).
-- Released: never edit this file; add a new numbered migration instead.
-- Same table and retention as 0004_retention.apache.sql; here TimescaleDB's own jobs enforce it.

CREATE TABLE weir_retention (
  hypertable     text        PRIMARY KEY,
  drop_after     interval    NOT NULL,
  compress_after interval,
  enforced_by    text        NOT NULL CHECK (enforced_by IN ('timescaledb', 'weir')),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE weir_retention IS
  'Written by migrations (defaults) and operators. One row is the retention of one hypertable: chunks older than drop_after are dropped, '
  'by TimescaleDB policies (enforced_by = timescaledb) or by the platform (enforced_by = weir, Apache-licensed builds).';

INSERT INTO weir_retention (hypertable, drop_after, compress_after, enforced_by) VALUES
  ('telemetry', INTERVAL '365 days', INTERVAL '7 days', 'timescaledb'),
  ('telemetry_other', INTERVAL '365 days', INTERVAL '7 days', 'timescaledb');

-- Segment by series so a compressed chunk answers one series without decompressing others; the
-- unique index's columns must all be in segmentby/orderby for inserts into compressed chunks.
ALTER TABLE telemetry SET (timescaledb.compress, timescaledb.compress_segmentby = 'series_id', timescaledb.compress_orderby = 'time DESC, seq DESC');
ALTER TABLE telemetry_other SET (timescaledb.compress, timescaledb.compress_segmentby = 'series_id', timescaledb.compress_orderby = 'time DESC, seq DESC');
SELECT add_compression_policy('telemetry', INTERVAL '7 days');
SELECT add_compression_policy('telemetry_other', INTERVAL '7 days');
SELECT add_retention_policy('telemetry', INTERVAL '365 days');
SELECT add_retention_policy('telemetry_other', INTERVAL '365 days');
