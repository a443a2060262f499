-- KPIs over long windows read counter increments from a 1-minute rollup instead of every raw sample
-- (docs: services/analytics-api/README.md, "KPI definitions"; services/timescale-sink/README.md, "Rollups").
-- Released: never edit this file; add a new numbered migration instead.
--
-- kpi.oee_slices summed the increment of every raw counter sample in the window: a day of 1 Hz counters on
-- 25 machines is 6.5 million rows through a window function, about a minute per call. counter_increments_1m
-- holds, per counter series and minute, the sum of the increments of the samples in that minute (each
-- against the sample before it, which may lie in an earlier minute) and the span those increments cover.
-- oee_slices now takes a minute whole when every increment in it belongs to one slice and none touches
-- excluded time, and computes everything else -- minutes on a slice edge, minutes touching a gap or Bad
-- state, minutes the rollup does not hold yet, minutes whose rows the invalidation log says may be stale -- from
-- the raw samples exactly as before. The result is the raw number. The sink's rollup maintainer recomputes logged
-- minutes on both licences, from the same invalidation log as telemetry_1m.

CREATE TABLE counter_increments_1m (
  bucket          timestamptz      NOT NULL,
  series_id       integer          NOT NULL,
  samples         bigint           NOT NULL,
  increment       double precision NOT NULL,
  resets          bigint           NOT NULL,
  first_prev_time timestamptz      NOT NULL,
  first_time      timestamptz      NOT NULL,
  last_time       timestamptz      NOT NULL
);
SELECT create_hypertable('counter_increments_1m', by_range('bucket', INTERVAL '7 days'), create_default_indexes => false);
CREATE UNIQUE INDEX counter_increments_1m_series_bucket_key ON counter_increments_1m (series_id, bucket DESC);
COMMENT ON TABLE counter_increments_1m IS
  'Maintained by timescale-sink (kpi.refresh_counter_increments). One row is one minute of one counter series (a node id ending in a '
  'kpi.series_roles suffix): samples = Good samples with a value in the minute that have a Good sample before them; increment = the sum '
  'of their increments (value - previous value; after a drop, a reset, the new value); resets = drops; the increments cover '
  '(first_prev_time, last_time], first_time is the first such sample. Read by kpi.oee_slices; raw samples stay the truth.';

INSERT INTO weir_retention (hypertable, drop_after, compress_after, enforced_by) VALUES
  ('counter_increments_1m', INTERVAL '730 days', NULL, 'weir');

-- Recomputes the rollup of the counter series among p_series (all counter series when NULL) for the minutes
-- from p_from's minute to p_to's, plus each series' first minute with data after that: its first increment is
-- taken against the last sample before it, which may have changed. Minutes left without increments are deleted.
CREATE FUNCTION kpi.refresh_counter_increments(p_from timestamptz, p_to timestamptz, p_series integer[] DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_ids integer[];
  v_from timestamptz[];
  v_to timestamptz[];
  v_written bigint;
BEGIN
  SELECT coalesce(array_agg(w.id), '{}'), coalesce(array_agg(w.from_bucket), '{}'), coalesce(array_agg(w.to_bucket), '{}')
    INTO v_ids, v_from, v_to
    FROM (
      SELECT s.id, time_bucket(interval '1 minute', p_from) AS from_bucket,
             coalesce((SELECT time_bucket(interval '1 minute', t.time) + interval '1 minute' FROM telemetry t
                        WHERE t.series_id = s.id AND t.time >= time_bucket(interval '1 minute', p_to) + interval '1 minute'
                          AND t.status >> 30 = 0 AND t.value IS NOT NULL
                        ORDER BY t.time LIMIT 1),
                      time_bucket(interval '1 minute', p_to) + interval '1 minute') AS to_bucket
        FROM series s
       WHERE (p_series IS NULL OR s.id = ANY (p_series))
         AND EXISTS (SELECT 1 FROM kpi.series_roles r WHERE right(s.node_id, length(r.node_suffix)) = r.node_suffix)
    ) w;
  DELETE FROM counter_increments_1m c USING unnest(v_ids, v_from, v_to) AS w(series_id, from_bucket, to_bucket)
   WHERE c.series_id = w.series_id AND c.bucket >= w.from_bucket AND c.bucket < w.to_bucket;
  INSERT INTO counter_increments_1m (bucket, series_id, samples, increment, resets, first_prev_time, first_time, last_time)
  SELECT time_bucket(interval '1 minute', x.time), w.series_id, count(*),
         sum(CASE WHEN x.value >= x.prev THEN x.value - x.prev ELSE x.value END), count(*) FILTER (WHERE x.value < x.prev),
         min(x.prev_time), min(x.time), max(x.time)
    FROM unnest(v_ids, v_from, v_to) AS w(series_id, from_bucket, to_bucket)
   CROSS JOIN LATERAL (
     SELECT t.time, t.value, lag(t.value) OVER o AS prev, lag(t.time) OVER o AS prev_time
       FROM (
         (SELECT b.time, b.seq, b.value FROM telemetry b
           WHERE b.series_id = w.series_id AND b.time < w.from_bucket AND b.status >> 30 = 0 AND b.value IS NOT NULL
           ORDER BY b.time DESC, b.seq DESC LIMIT 1)
         UNION ALL
         SELECT t.time, t.seq, t.value FROM telemetry t
          WHERE t.series_id = w.series_id AND t.time >= w.from_bucket AND t.time < w.to_bucket AND t.status >> 30 = 0 AND t.value IS NOT NULL
       ) t
     WINDOW o AS (ORDER BY t.time, t.seq)
   ) x
   WHERE x.prev IS NOT NULL AND x.time >= w.from_bucket
   GROUP BY 1, 2;
  GET DIAGNOSTICS v_written = ROW_COUNT;
  RETURN v_written;
END;
$$;
COMMENT ON FUNCTION kpi.refresh_counter_increments(timestamptz, timestamptz, integer[]) IS
  'Recomputes counter_increments_1m from the raw telemetry for the counter series among p_series (NULL: all) from p_from''s minute to p_to''s, '
  'plus each series'' next minute with data; returns the rows written. timescale-sink calls it for the minutes it wrote.';

-- oee_slices as in 0008, with the counter increments read through the rollup where it can be taken whole.
CREATE OR REPLACE FUNCTION kpi.oee_slices(p_from timestamptz, p_to timestamptz, p_tz text DEFAULT 'UTC', p_sites text[] DEFAULT NULL, p_asset text DEFAULT NULL)
  RETURNS TABLE (site_id text, line_id text, machine_id text, cost_centre text, shift_id text, shift_name text, day date, order_id text, material text,
                 ideal_cycle_time_s double precision, planned_s double precision, excluded_s double precision, planned_busy_s double precision,
                 run_s double precision, idle_s double precision, down_s double precision, failures bigint, produced double precision,
                 good double precision, ideal_s double precision, excluded_produced double precision, counter_resets bigint, energy_kwh double precision)
  LANGUAGE sql STABLE AS $$
WITH ps AS (SELECT * FROM kpi.plan_slices(p_from, p_to, p_tz, p_sites, p_asset)),
st AS (
  SELECT ms.machine_id, i.state, i.start_time,
         tstzrange(i.start_time, coalesce(i.end_time, greatest(now(), i.start_time)), '[)') * tstzrange(p_from, p_to, '[)') AS r,
         lag(i.state) OVER (PARTITION BY i.series_id ORDER BY i.start_time) AS prev_state
    FROM kpi.machine_series ms JOIN machine_state_intervals i ON i.series_id = ms.series_id
   WHERE ms.role = 'state' AND ms.machine_id IN (SELECT DISTINCT ps.machine_id FROM ps)
     AND i.start_time < p_to AND (i.end_time IS NULL OR i.end_time > p_from)
),
by_state AS (
  SELECT st.machine_id, st.state, range_agg(st.r) AS mr FROM st WHERE NOT isempty(st.r) GROUP BY st.machine_id, st.state
),
-- Times per slice as 0007 computed them: planned_s is the slice less its prorated share of the break.
sv AS (
  SELECT ps.*, v.*
    FROM ps
   CROSS JOIN LATERAL (
     SELECT kpi.seconds(ps.slice) AS slice_s,
            kpi.seconds(ps.slice) * (1 - CASE WHEN ps.shift_len_s > 0 THEN ps.break_s / ps.shift_len_s ELSE 0 END) AS planned_s,
            kpi.seconds(ps.slice * ps.excluded) AS excluded_s,
            coalesce((SELECT kpi.seconds(b.mr * ps.slice - ps.excluded) FROM by_state b WHERE b.machine_id = ps.machine_id AND b.state = 'running'), 0) AS run_s,
            coalesce((SELECT kpi.seconds(b.mr * ps.slice - ps.excluded) FROM by_state b WHERE b.machine_id = ps.machine_id AND b.state = 'idle'), 0) AS idle_s,
            coalesce((SELECT kpi.seconds(b.mr * ps.slice - ps.excluded) FROM by_state b WHERE b.machine_id = ps.machine_id AND b.state = 'down'), 0) AS down_s,
            (SELECT count(*) FROM st WHERE st.machine_id = ps.machine_id AND st.state = 'down' AND st.prev_state IS DISTINCT FROM 'down'
                AND ps.slice @> st.start_time AND NOT ps.excluded @> st.start_time) AS failures
   ) v
),
-- Per machine × shift: the break time the machine ran through (run time beyond planned busy time, at most
-- the break), spread over the shift's slices in proportion to their length, as the break itself is.
bt AS (
  SELECT sv.*, row_number() OVER () AS slice_no,
         CASE WHEN sum(sv.slice_s) OVER sh > 0 THEN
           least(greatest(sum(sv.run_s) OVER sh - (sum(sv.planned_s) OVER sh - sum(sv.excluded_s) OVER sh), 0), sum(sv.slice_s - sv.planned_s) OVER sh)
           * sv.slice_s / sum(sv.slice_s) OVER sh
         ELSE 0 END AS ran_through_s
    FROM sv
  WINDOW sh AS (PARTITION BY sv.machine_id, sv.shift_id, sv.shift_start)
),
-- The machines' counter series.
mc AS (
  SELECT DISTINCT ms.machine_id, ms.series_id, ms.role FROM kpi.machine_series ms
   WHERE ms.role <> 'state' AND ms.machine_id IN (SELECT DISTINCT ps.machine_id FROM ps)
),
-- Minutes of these series that writers have logged and the sink's maintainer has not recomputed yet (late data, a
-- replay, the minute still filling): their rows may be stale, as may the row of the next minute with data, whose first
-- increment is taken against a sample that may now be in the logged minute.
dirty AS MATERIALIZED (
  SELECT w.ranges[i]::int AS series_id, tstzrange(to_timestamp(w.ranges[i + 1] * 60), to_timestamp((w.ranges[i + 2] + 1) * 60), '[)') AS r
    FROM weir_rollup_invalidations w, generate_series(1, coalesce(array_length(w.ranges, 1), 0), 3) AS i
   WHERE w.ranges[i] IN (SELECT mc.series_id FROM mc)
),
-- Rollup minutes taken whole: every increment in them belongs to one slice (all their samples lie in it), none spans
-- excluded time (their increments cover exactly (first_prev_time, last_time]), and nothing logged touches what they cover.
whole AS (
  SELECT bt.slice_no, mc.series_id, mc.role, c.bucket, c.increment, c.resets
    FROM mc
    JOIN counter_increments_1m c ON c.series_id = mc.series_id AND c.bucket >= p_from - interval '1 minute' AND c.bucket < p_to
    JOIN bt ON bt.machine_id = mc.machine_id AND bt.slice @> tstzrange(c.first_time, c.last_time, '[]')
   WHERE NOT bt.excluded && tstzrange(c.first_prev_time, c.last_time, '(]')
     AND NOT EXISTS (SELECT 1 FROM dirty d
                      WHERE d.series_id = c.series_id AND d.r && tstzrange(least(c.first_prev_time, c.bucket), c.bucket + interval '1 minute', '[)'))
),
-- Everything else in the machine's slices, per series, comes from the raw samples: slice edges, excluded time, minutes not
-- rolled up yet. Samples outside every slice count nowhere, so they are not read (a range's first increment still takes the
-- sample before the range, wherever it lies).
-- (The CTEs below are MATERIALIZED: estimated at one row each, they were otherwise re-run per row of a nested loop.)
sl AS MATERIALIZED (SELECT bt.machine_id, range_agg(bt.slice) AS mr FROM bt GROUP BY bt.machine_id),
wm AS MATERIALIZED (SELECT w.series_id, range_agg(tstzrange(w.bucket, w.bucket + interval '1 minute', '[)')) AS mr FROM whole w GROUP BY w.series_id),
need AS MATERIALIZED (
  SELECT mc.machine_id, mc.series_id, mc.role, r.rng
    FROM mc
    JOIN sl ON sl.machine_id = mc.machine_id
    LEFT JOIN wm ON wm.series_id = mc.series_id
   CROSS JOIN LATERAL unnest(sl.mr - coalesce(wm.mr, '{}'::tstzmultirange)) AS r(rng)
),
inc AS MATERIALIZED (
  SELECT n.machine_id, n.role, x.time AS sample_time, x.prev_time, CASE WHEN x.value >= x.prev THEN x.value - x.prev ELSE x.value END AS increment,
         x.value < x.prev AS reset
    FROM need n
   CROSS JOIN LATERAL (
     SELECT t.time, t.value, lag(t.value) OVER w AS prev, lag(t.time) OVER w AS prev_time
       FROM (
         (SELECT b.time, b.seq, b.value FROM telemetry b
           WHERE b.series_id = n.series_id AND b.time < lower(n.rng) AND b.status >> 30 = 0 AND b.value IS NOT NULL
           ORDER BY b.time DESC, b.seq DESC LIMIT 1)
         UNION ALL
         SELECT t.time, t.seq, t.value FROM telemetry t
          WHERE t.series_id = n.series_id AND t.time >= lower(n.rng) AND t.time < upper(n.rng) AND t.status >> 30 = 0 AND t.value IS NOT NULL
       ) t
     WINDOW w AS (ORDER BY t.time, t.seq)
   ) x
   WHERE x.prev IS NOT NULL AND x.time >= lower(n.rng)
),
-- Counter increments per slice: raw ones joined by machine and time, plus the whole minutes.
q AS (
  SELECT u.slice_no, sum(u.produced) AS produced, sum(u.good) AS good, sum(u.excluded_produced) AS excluded_produced, sum(u.resets)::bigint AS resets,
         sum(u.energy) AS energy
    FROM (
      SELECT bt.slice_no,
             coalesce(sum(i.increment) FILTER (WHERE i.role = 'total_count' AND NOT i.gap), 0) AS produced,
             coalesce(sum(i.increment) FILTER (WHERE i.role = 'good_count' AND NOT i.gap), 0) AS good,
             coalesce(sum(i.increment) FILTER (WHERE i.role = 'total_count' AND i.gap), 0) AS excluded_produced,
             count(*) FILTER (WHERE i.reset AND i.role = 'total_count') AS resets,
             coalesce(sum(i.increment) FILTER (WHERE i.role = 'energy' AND NOT i.gap), 0) AS energy
        FROM bt JOIN inc ON inc.machine_id = bt.machine_id AND bt.slice @> inc.sample_time
       CROSS JOIN LATERAL (SELECT inc.role, inc.increment, inc.reset, bt.excluded && tstzrange(inc.prev_time, inc.sample_time, '(]') AS gap) i
       GROUP BY bt.slice_no
      UNION ALL
      SELECT w.slice_no,
             coalesce(sum(w.increment) FILTER (WHERE w.role = 'total_count'), 0),
             coalesce(sum(w.increment) FILTER (WHERE w.role = 'good_count'), 0),
             0,
             coalesce(sum(w.resets) FILTER (WHERE w.role = 'total_count'), 0),
             coalesce(sum(w.increment) FILTER (WHERE w.role = 'energy'), 0)
        FROM whole w
       GROUP BY w.slice_no
    ) u
   GROUP BY u.slice_no
)
SELECT bt.site_id, bt.line_id, bt.machine_id, bt.cost_centre, bt.shift_id, bt.shift_name, bt.day, bt.order_id, bt.material, bt.ideal_cycle_time_s,
       bt.planned_s + bt.ran_through_s, bt.excluded_s, greatest(bt.planned_s + bt.ran_through_s - bt.excluded_s, 0), bt.run_s, bt.idle_s, bt.down_s, bt.failures,
       coalesce(q.produced, 0), coalesce(q.good, 0), bt.ideal_cycle_time_s * coalesce(q.produced, 0), coalesce(q.excluded_produced, 0), coalesce(q.resets, 0),
       coalesce(q.energy, 0)
  FROM bt LEFT JOIN q ON q.slice_no = bt.slice_no
$$;
COMMENT ON FUNCTION kpi.oee_slices(timestamptz, timestamptz, text, text[], text) IS
  'OEE components per machine × shift × production order in [p_from, p_to): planned time (shift less prorated planned breaks, plus the break time '
  'the machine ran through: per machine and shift, run time beyond planned busy time, at most the break, prorated over the shift''s slices), excluded time '
  '(gaps, Bad/Uncertain state), planned busy time, run/idle/down time, failures (entries into down), produced and good quantity (counter increments, '
  'from counter_increments_1m for minutes wholly inside a slice and clear of excluded time, from raw samples otherwise; increments spanning excluded '
  'time are reported as excluded_produced), ideal time, counter resets, energy (kWh).';

-- JIT compilation costs seconds on these statements (their cost estimates over wide windows are high) and buys
-- nothing: off inside kpi.oee, whoever calls it. (Not set on the SQL functions: a SET clause stops them being
-- inlined into the caller's query, and their plans would no longer see the window's values.)
ALTER FUNCTION kpi.oee(timestamptz, timestamptz, text, text, text[], text) SET jit = off;
