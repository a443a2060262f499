-- Machine state intervals, data gaps and completeness (docs: services/timescale-sink/README.md).
-- Released: never edit this file; add a new numbered migration instead.

CREATE TABLE machine_state_intervals (
  series_id   integer     NOT NULL,
  start_time  timestamptz NOT NULL,
  end_time    timestamptz,
  state       text        NOT NULL,
  reason_code integer,
  PRIMARY KEY (series_id, start_time),
  CONSTRAINT machine_state_intervals_positive CHECK (end_time IS NULL OR end_time > start_time)
);
CREATE INDEX machine_state_intervals_start_idx ON machine_state_intervals (start_time);
COMMENT ON TABLE machine_state_intervals IS
  'Written by timescale-sink, derived from state tags (series matching sink.state.tagPattern, e.g. <machine>.State). One row is one '
  'stretch of time a machine spent in one state (running, idle, down, unknown for Bad samples) with one reason code; end_time is null '
  'while the machine is still in it. Recomputed from the raw samples whenever samples at or before it arrive late, so it is idempotent.';
COMMENT ON COLUMN machine_state_intervals.series_id IS 'The state tag''s series (series.id); its source, node and asset are in series.';
COMMENT ON COLUMN machine_state_intervals.reason_code IS 'Value of the sibling reason tag (<machine>.DownReason) as of the state change (plus a grace period), null while running.';

-- Recomputes the state intervals of one state series from p_from on: the interval that started before
-- p_from is the seed (samples before p_from are unchanged, so its state and reason are still right),
-- every interval starting at or after p_from is derived again from the samples. Callers pass the
-- earliest source time their write changed (a new state sample, or a reason sample minus the grace).
CREATE FUNCTION weir_recompute_state_intervals(p_series integer, p_from timestamptz, p_reason_key text, p_reason_by_path boolean, p_grace interval, p_codes jsonb)
  RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_reason_series integer;
  v_state text;
  v_reason integer;
  v_start timestamptz;
  v_code integer;
  v_written integer := 0;
  r record;
BEGIN
  -- Two writers (the state tag's and the reason tag's partitions) may recompute one series at once; the
  -- second waits and then sees the first's committed samples, so neither result misses a sample.
  PERFORM pg_advisory_xact_lock(1466271602, p_series);
  IF p_reason_key IS NOT NULL THEN
    SELECT r2.id INTO v_reason_series
      FROM series s JOIN series r2 ON r2.source_id = s.source_id
     WHERE s.id = p_series AND CASE WHEN p_reason_by_path THEN r2.browse_path = p_reason_key ELSE r2.node_id = p_reason_key END
     ORDER BY r2.id LIMIT 1;
  END IF;
  SELECT i.state, i.reason_code, i.start_time INTO v_state, v_reason, v_start
    FROM machine_state_intervals i WHERE i.series_id = p_series AND i.start_time < p_from ORDER BY i.start_time DESC LIMIT 1;
  DELETE FROM machine_state_intervals WHERE series_id = p_series AND start_time >= p_from;
  FOR r IN
    SELECT x.time, x.state FROM (
      SELECT o.time, o.seq, CASE WHEN o.status >> 30 <> 0 OR num_nonnulls(o.value_text, o.value_bool) = 0 THEN 'unknown'
                                 ELSE coalesce(lower(o.value_text), o.value_bool::text) END AS state
        FROM telemetry_other o WHERE o.series_id = p_series AND o.time >= p_from
      UNION ALL
      SELECT t.time, t.seq, CASE WHEN t.status >> 30 <> 0 OR t.value IS NULL THEN 'unknown'
                                 ELSE coalesce(p_codes ->> (round(t.value)::bigint)::text, t.value::text) END
        FROM telemetry t WHERE t.series_id = p_series AND t.time >= p_from
    ) x ORDER BY x.time, x.seq
  LOOP
    v_code := NULL;
    IF r.state <> 'running' AND v_reason_series IS NOT NULL THEN
      SELECT round(t.value)::integer INTO v_code FROM telemetry t
       WHERE t.series_id = v_reason_series AND t.time <= r.time + p_grace AND t.status >> 30 = 0 AND t.value IS NOT NULL
       ORDER BY t.time DESC, t.seq DESC LIMIT 1;
    END IF;
    IF v_start IS NULL THEN
      v_state := r.state; v_reason := v_code; v_start := r.time;
    ELSIF r.time = v_start THEN
      -- Two samples at one instant: the later one (by seq) decides; an interval cannot be empty.
      v_state := r.state; v_reason := v_code;
    ELSIF r.state IS DISTINCT FROM v_state OR v_code IS DISTINCT FROM v_reason THEN
      INSERT INTO machine_state_intervals (series_id, start_time, end_time, state, reason_code) VALUES (p_series, v_start, r.time, v_state, v_reason)
        ON CONFLICT (series_id, start_time) DO UPDATE SET end_time = excluded.end_time, state = excluded.state, reason_code = excluded.reason_code;
      v_written := v_written + 1;
      v_state := r.state; v_reason := v_code; v_start := r.time;
    END IF;
  END LOOP;
  IF v_start IS NOT NULL THEN
    INSERT INTO machine_state_intervals (series_id, start_time, end_time, state, reason_code) VALUES (p_series, v_start, NULL, v_state, v_reason)
      ON CONFLICT (series_id, start_time) DO UPDATE SET end_time = NULL, state = excluded.state, reason_code = excluded.reason_code;
    v_written := v_written + 1;
  END IF;
  RETURN v_written;
END $$;
COMMENT ON FUNCTION weir_recompute_state_intervals(integer, timestamptz, text, boolean, interval, jsonb) IS
  'Used by timescale-sink: re-derives machine_state_intervals of one state series from p_from on; returns the intervals written.';

CREATE TABLE data_gaps (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source_id   text        NOT NULL,
  node_id     text,
  from_time   timestamptz NOT NULL,
  to_time     timestamptz NOT NULL,
  detected_by text        NOT NULL CHECK (detected_by IN ('connector', 'sequence')),
  reason      text,
  event_id    text,
  seq_from    bigint,
  seq_to      bigint,
  detected_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT data_gaps_ordered CHECK (to_time >= from_time AND (seq_to IS NULL OR seq_to >= seq_from)),
  CONSTRAINT data_gaps_kind_fields CHECK (CASE detected_by WHEN 'connector' THEN event_id IS NOT NULL ELSE seq_from IS NOT NULL AND seq_to IS NOT NULL END)
);
CREATE UNIQUE INDEX data_gaps_connector_event_key ON data_gaps (source_id, event_id) WHERE detected_by = 'connector';
CREATE UNIQUE INDEX data_gaps_sequence_key ON data_gaps (source_id, seq_from) WHERE detected_by = 'sequence';
CREATE INDEX data_gaps_source_time_idx ON data_gaps (source_id, from_time);
COMMENT ON TABLE data_gaps IS
  'Written by timescale-sink. One row is one interval of data known to be missing: reported by a connector (ot.events.v1 kind gap; '
  'node_id null means the whole source) or found by the sink as a hole in a source''s sequence numbers (detected_by sequence; '
  'seq_from..seq_to missing, from_time/to_time the source times of the samples either side). Late data that fills a sequence hole shrinks or removes its row.';

CREATE VIEW data_completeness AS
WITH missing AS (
  SELECT s.id AS series_id, g.from_time, g.to_time, g.detected_by, g.reason
    FROM data_gaps g JOIN series s ON s.source_id = g.source_id AND (g.node_id IS NULL OR g.node_id = s.node_id)
),
ordered AS (
  SELECT series_id, from_time, to_time,
         max(to_time) OVER (PARTITION BY series_id ORDER BY from_time, to_time ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
    FROM missing
),
merged AS (
  SELECT series_id, min(from_time) AS from_time, max(to_time) AS to_time
    FROM (SELECT *, count(*) FILTER (WHERE reach IS NULL OR from_time > reach) OVER (PARTITION BY series_id ORDER BY from_time, to_time) AS island FROM ordered) o
   GROUP BY series_id, island
),
bounds AS (
  SELECT s.id AS series_id, s.first_seen, s.last_seen, m.from_time, m.to_time,
         lag(m.to_time) OVER (PARTITION BY s.id ORDER BY m.from_time) AS prev_to,
         max(m.to_time) OVER (PARTITION BY s.id) AS last_to
    FROM series s LEFT JOIN merged m ON m.series_id = s.id
),
covered AS (
  SELECT series_id, greatest(coalesce(prev_to, first_seen), first_seen) AS from_time, least(from_time, last_seen) AS to_time
    FROM bounds WHERE from_time IS NOT NULL
  UNION ALL
  SELECT DISTINCT series_id, greatest(coalesce(last_to, first_seen), first_seen), last_seen FROM bounds
)
SELECT series_id, from_time, to_time, 'covered'::text AS status, NULL::text AS detected_by, NULL::text AS reason FROM covered WHERE to_time > from_time
UNION ALL
SELECT series_id, from_time, to_time, 'missing', detected_by, reason FROM missing;
COMMENT ON VIEW data_completeness IS
  'Covered and missing intervals per series. missing: every gap of data_gaps that applies to the series (its own, or its whole source''s); '
  'covered: the rest of [series.first_seen, series.last_seen] (last_seen is updated coarsely, so the last covered interval may end a little early).';

CREATE TABLE weir_seq_log (
  id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source_id text        NOT NULL,
  min_seq   bigint      NOT NULL,
  max_seq   bigint      NOT NULL,
  min_time  timestamptz NOT NULL,
  max_time  timestamptz NOT NULL,
  logged_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX weir_seq_log_source_idx ON weir_seq_log (source_id, max_seq);
COMMENT ON TABLE weir_seq_log IS
  'Written by timescale-sink: one row per written batch and source (sequence and source-time range of its samples); consumed by the '
  'sink''s sequence gap detector, which deletes rows once its watermark has passed them.';

CREATE TABLE weir_seq_watermark (
  source_id    text        PRIMARY KEY,
  through_seq  bigint      NOT NULL,
  through_time timestamptz,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE weir_seq_watermark IS
  'Written by timescale-sink''s sequence gap detector. One row per source: every sequence number up to through_seq is stored or recorded in data_gaps.';
