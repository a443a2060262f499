-- ERP context: assets (ISA-95 tree), work orders, production orders, shifts, each with a validity interval.
-- Released: never edit this file; add a new numbered migration instead.
--
-- One row is one version of an ERP record: the sink upserts on (id, valid_from), newest changed_at
-- winning. validity is derived from valid_from/valid_to so writers cannot make the two disagree;
-- "as of" joins use it (validity @> sample_time) through GiST indexes that also hold the join key,
-- which needs btree_gist (a trusted contrib extension shipped with PostgreSQL).

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TYPE isa95_level AS ENUM ('enterprise', 'site', 'area', 'line', 'cell', 'machine', 'equipment');
COMMENT ON TYPE isa95_level IS 'ISA-95 hierarchy levels, top down; the order allows level comparisons.';
CREATE TYPE erp_order_status AS ENUM ('created', 'released', 'in-progress', 'completed', 'closed', 'cancelled');
COMMENT ON TYPE erp_order_status IS 'Status of a work order or production order (contracts: erp.*.v1).';

CREATE TABLE assets (
  id          text        NOT NULL,
  valid_from  timestamptz NOT NULL,
  valid_to    timestamptz,
  validity    tstzrange   GENERATED ALWAYS AS (tstzrange(valid_from, valid_to, '[)')) STORED,
  parent_id   text,
  level       isa95_level NOT NULL,
  name        text        NOT NULL,
  path        text        NOT NULL,
  cost_centre text,
  limits      jsonb,
  changed_at  timestamptz NOT NULL,
  origin      text,
  attributes  jsonb       NOT NULL DEFAULT '{}',
  PRIMARY KEY (id, valid_from)
);
CREATE INDEX assets_id_validity_idx ON assets USING gist (id, validity);
CREATE INDEX assets_parent_id_idx ON assets (parent_id);
-- text_pattern_ops lets "path LIKE 'acme/hamburg/%'" (a subtree) use the index whatever the collation.
CREATE INDEX assets_path_idx ON assets (path text_pattern_ops);
COMMENT ON TABLE assets IS
  'Written by timescale-sink from erp.assets.v1. One row is one version of an ISA-95 asset (SAP functional location or equipment), '
  'valid over validity; path is the slash-separated id path from the enterprise down.';
COMMENT ON COLUMN assets.validity IS 'When this version applies: [valid_from, valid_to), unbounded above while still valid.';
COMMENT ON COLUMN assets.limits IS 'Safe operating limits per measurement: {"temperature": {"low": 2, "high": 8, "unit": "CEL"}}.';

CREATE TABLE work_orders (
  id          text             NOT NULL,
  valid_from  timestamptz      NOT NULL,
  valid_to    timestamptz,
  validity    tstzrange        GENERATED ALWAYS AS (tstzrange(valid_from, valid_to, '[)')) STORED,
  asset_id    text             NOT NULL,
  type        text             NOT NULL,
  status      erp_order_status NOT NULL,
  description text,
  changed_at  timestamptz      NOT NULL,
  origin      text,
  attributes  jsonb            NOT NULL DEFAULT '{}',
  PRIMARY KEY (id, valid_from)
);
CREATE INDEX work_orders_asset_validity_idx ON work_orders USING gist (asset_id, validity);
COMMENT ON TABLE work_orders IS
  'Written by timescale-sink from erp.work-orders.v1. One row is one maintenance work order on an asset, open over validity.';

CREATE TABLE production_orders (
  id                   text             NOT NULL,
  valid_from           timestamptz      NOT NULL,
  valid_to             timestamptz,
  validity             tstzrange        GENERATED ALWAYS AS (tstzrange(valid_from, valid_to, '[)')) STORED,
  asset_id             text             NOT NULL,
  material             text             NOT NULL,
  material_description text,
  planned_quantity     double precision NOT NULL,
  unit                 text,
  ideal_cycle_time_s   double precision,
  status               erp_order_status NOT NULL,
  changed_at           timestamptz      NOT NULL,
  origin               text,
  attributes           jsonb            NOT NULL DEFAULT '{}',
  PRIMARY KEY (id, valid_from)
);
CREATE INDEX production_orders_asset_validity_idx ON production_orders USING gist (asset_id, validity);
COMMENT ON TABLE production_orders IS
  'Written by timescale-sink from erp.production-orders.v1. One row is one production order running on an asset (usually a line) '
  'between its actual start and end (validity).';
COMMENT ON COLUMN production_orders.ideal_cycle_time_s IS 'Ideal time to make one unit, in seconds (ISO 22400), for OEE performance.';

CREATE TABLE shifts (
  id                    text             NOT NULL,
  valid_from            timestamptz      NOT NULL,
  valid_to              timestamptz,
  validity              tstzrange        GENERATED ALWAYS AS (tstzrange(valid_from, valid_to, '[)')) STORED,
  site_id               text             NOT NULL,
  name                  text             NOT NULL,
  planned_break_minutes double precision NOT NULL DEFAULT 0,
  changed_at            timestamptz      NOT NULL,
  origin                text,
  attributes            jsonb            NOT NULL DEFAULT '{}',
  PRIMARY KEY (id, valid_from)
);
CREATE INDEX shifts_site_validity_idx ON shifts USING gist (site_id, validity);
COMMENT ON TABLE shifts IS
  'Written by timescale-sink from erp.shifts.v1. One row is one shift at a site over validity; planned production time is '
  'the shift less planned_break_minutes.';
