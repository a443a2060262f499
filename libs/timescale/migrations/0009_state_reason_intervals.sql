-- Machine state intervals split where the down reason changes while the state stays (a jam that
-- turns into an electrical fault without the machine running in between): one interval per stretch
-- of equal (state, reason), as the sink documents. 0005 only looked at the reason when the state
-- changed, so a reason change on a machine that stayed down was folded into the earlier reason.
CREATE OR REPLACE FUNCTION weir_recompute_state_intervals(p_series integer, p_from timestamptz, p_reason_key text, p_reason_by_path boolean, p_grace interval, p_codes jsonb)
  RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_reason_series integer;
  v_state text;
  v_reason integer;
  v_start timestamptz;
  v_cur text;
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
  v_cur := v_state;
  DELETE FROM machine_state_intervals WHERE series_id = p_series AND start_time >= p_from;
  -- State samples and, when the machine has a reason tag, its reason samples, in time order: a state
  -- sample sets the state; either kind may change the reason in effect while the machine is not running.
  FOR r IN
    SELECT x.time, x.state, x.is_state FROM (
      SELECT o.time, o.seq, CASE WHEN o.status >> 30 <> 0 OR num_nonnulls(o.value_text, o.value_bool) = 0 THEN 'unknown'
                                 ELSE coalesce(lower(o.value_text), o.value_bool::text) END AS state, true AS is_state
        FROM telemetry_other o WHERE o.series_id = p_series AND o.time >= p_from
      UNION ALL
      SELECT t.time, t.seq, CASE WHEN t.status >> 30 <> 0 OR t.value IS NULL THEN 'unknown'
                                 ELSE coalesce(p_codes ->> (round(t.value)::bigint)::text, t.value::text) END, true
        FROM telemetry t WHERE t.series_id = p_series AND t.time >= p_from
      UNION ALL
      SELECT t.time, t.seq, NULL, false
        FROM telemetry t WHERE v_reason_series IS NOT NULL AND t.series_id = v_reason_series AND t.time >= p_from
         AND t.status >> 30 = 0 AND t.value IS NOT NULL
    ) x ORDER BY x.time, x.is_state DESC, x.seq
  LOOP
    IF r.is_state THEN
      v_cur := r.state;
    ELSIF v_cur IS NULL OR v_cur = 'running' THEN
      CONTINUE; -- a reason while running (or before any state) starts nothing
    END IF;
    v_code := NULL;
    IF v_cur <> 'running' AND v_reason_series IS NOT NULL THEN
      -- The reason in effect: the latest one up to the grace after this instant (a reason written just
      -- after the state change belongs to it).
      SELECT round(t.value)::integer INTO v_code FROM telemetry t
       WHERE t.series_id = v_reason_series AND t.time <= r.time + p_grace AND t.status >> 30 = 0 AND t.value IS NOT NULL
       ORDER BY t.time DESC, t.seq DESC LIMIT 1;
    END IF;
    IF v_start IS NULL THEN
      v_state := v_cur; v_reason := v_code; v_start := r.time;
    ELSIF r.time = v_start THEN
      -- Two samples at one instant: the later one decides; an interval cannot be empty.
      v_state := v_cur; v_reason := v_code;
    ELSIF v_cur IS DISTINCT FROM v_state OR v_code IS DISTINCT FROM v_reason THEN
      INSERT INTO machine_state_intervals (series_id, start_time, end_time, state, reason_code) VALUES (p_series, v_start, r.time, v_state, v_reason)
        ON CONFLICT (series_id, start_time) DO UPDATE SET end_time = excluded.end_time, state = excluded.state, reason_code = excluded.reason_code;
      v_written := v_written + 1;
      v_state := v_cur; v_reason := v_code; v_start := r.time;
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
  'Used by timescale-sink: re-derives machine_state_intervals of one state series from p_from on, one interval per stretch of equal (state, reason); returns the intervals written.';
