-- Retention, Apache-licensed TimescaleDB (Debian's package, several managed clouds).
-- Released: never edit this file; add a new numbered migration instead.
-- Compression and policies do not exist under this licence, so the platform itself drops old
-- chunks (drop_chunks works here) from what weir_retention says. 0004_retention.timescale.sql
-- creates the same table with the same rows, marked as enforced by TimescaleDB's own jobs.

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
  ('telemetry', INTERVAL '365 days', NULL, 'weir'),
  ('telemetry_other', INTERVAL '365 days', NULL, 'weir');
