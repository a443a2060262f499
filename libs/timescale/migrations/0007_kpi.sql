-- Analyst schema kpi: ISO 22400 KPIs, downtime, energy and completeness as SQL (docs: services/analytics-api/README.md).
-- Released: never edit this file; add a new numbered migration instead.
--
-- One definition of each number: the analytics API, Grafana and psql users all read these functions and
-- views. Everything is computed from machine_state_intervals, counter samples in telemetry, shifts,
-- production_orders and data_gaps with multirange arithmetic (PostgreSQL 14+), so intervals that overlap
-- a gap or a Bad/Uncertain state are cut out exactly, not approximated by buckets.

CREATE SCHEMA kpi;
COMMENT ON SCHEMA kpi IS 'Analyst views and functions over the Weir tables: KPIs (ISO 22400), downtime, energy, completeness. The analytics API reads through them.';

CREATE TABLE kpi.series_roles (
  role        text NOT NULL CHECK (role IN ('total_count', 'good_count', 'energy')),
  node_suffix text NOT NULL CHECK (node_suffix <> ''),
  PRIMARY KEY (role, node_suffix)
);
COMMENT ON TABLE kpi.series_roles IS
  'Which series of a machine feed the KPIs: a series whose node_id ends with node_suffix has that role (total_count: parts produced, '
  'good_count: good parts, both monotonic counters; energy: an energy meter in kWh). Edit to fit a plant''s tag names.';
INSERT INTO kpi.series_roles (role, node_suffix) VALUES ('total_count', '.TotalCount'), ('good_count', '.GoodCount'), ('energy', '.EnergyMeter');

CREATE TABLE kpi.reason_codes (
  code     integer PRIMARY KEY,
  state    text NOT NULL CHECK (state IN ('idle', 'down')),
  category text NOT NULL,
  name     text NOT NULL
);
COMMENT ON TABLE kpi.reason_codes IS
  'Downtime reason taxonomy for Pareto charts: 1xx planned and 2xx material stops (idle), 3xx technical and 4xx quality stops (down). Extend per plant.';
INSERT INTO kpi.reason_codes (code, state, category, name) VALUES
  (101, 'idle', 'planned', 'break'), (102, 'idle', 'planned', 'shift handover'), (103, 'idle', 'planned', 'changeover / setup'),
  (104, 'idle', 'planned', 'planned maintenance'), (105, 'idle', 'planned', 'no order scheduled'), (106, 'idle', 'planned', 'programming'),
  (201, 'idle', 'material', 'starved'), (202, 'idle', 'material', 'blocked'), (203, 'idle', 'material', 'material shortage'),
  (204, 'idle', 'material', 'wrong material'), (301, 'down', 'technical', 'mechanical failure'), (302, 'down', 'technical', 'electrical failure'),
  (303, 'down', 'technical', 'jam'), (304, 'down', 'technical', 'tool breakage'), (305, 'down', 'technical', 'sensor fault'),
  (306, 'down', 'technical', 'control / PLC fault'), (401, 'down', 'quality', 'quality check'), (402, 'down', 'quality', 'out of tolerance'),
  (403, 'down', 'quality', 'rework / adjustment');

-- Seconds covered by a multirange (bounded ranges only; callers clip to a window first).
CREATE FUNCTION kpi.seconds(m tstzmultirange) RETURNS double precision
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT coalesce(sum(extract(epoch FROM upper(r) - lower(r))), 0)::double precision FROM unnest(m) r $$;
COMMENT ON FUNCTION kpi.seconds(tstzmultirange) IS 'Total length in seconds of a bounded multirange.';

CREATE VIEW kpi.assets AS
WITH RECURSIVE cur AS (
  SELECT * FROM assets WHERE validity @> now()
), up AS (
  SELECT c.id AS asset_id, c.id AS ancestor_id, c.level AS ancestor_level, c.parent_id, 0 AS depth FROM cur c
  UNION ALL
  SELECT up.asset_id, p.id, p.level, p.parent_id, up.depth + 1 FROM up JOIN cur p ON p.id = up.parent_id WHERE up.depth < 32
)
SELECT c.id AS asset_id, c.parent_id, c.level, c.name, c.path, c.cost_centre,
       (SELECT u.ancestor_id FROM up u WHERE u.asset_id = c.id AND u.ancestor_level = 'site' ORDER BY u.depth LIMIT 1) AS site_id,
       (SELECT u.ancestor_id FROM up u WHERE u.asset_id = c.id AND u.ancestor_level = 'area' ORDER BY u.depth LIMIT 1) AS area_id,
       (SELECT u.ancestor_id FROM up u WHERE u.asset_id = c.id AND u.ancestor_level = 'line' ORDER BY u.depth LIMIT 1) AS line_id
  FROM cur c;
COMMENT ON VIEW kpi.assets IS 'The current ISA-95 asset tree: every asset valid now, with the site, area and line it belongs to (itself when it is one).';

CREATE VIEW kpi.machine_series AS
SELECT s.asset_id AS machine_id, s.id AS series_id, 'state'::text AS role
  FROM series s
 WHERE s.asset_id IS NOT NULL AND EXISTS (SELECT 1 FROM machine_state_intervals i WHERE i.series_id = s.id)
UNION ALL
SELECT s.asset_id, s.id, r.role
  FROM series s JOIN kpi.series_roles r ON right(s.node_id, length(r.node_suffix)) = r.node_suffix
 WHERE s.asset_id IS NOT NULL;
COMMENT ON VIEW kpi.machine_series IS 'The series each machine''s KPIs read: its state tag (has state intervals) and its counters (kpi.series_roles).';

-- The planned-time slices of each machine: (shift at the machine's site) ∩ (production order on its line or
-- on the machine) ∩ window, plus the part of each shift without an order. excluded is the machine's time that
-- KPIs leave out: gaps of its state or counter series (data_gaps) and intervals in state unknown (Bad data).
CREATE FUNCTION kpi.plan_slices(p_from timestamptz, p_to timestamptz, p_tz text DEFAULT 'UTC', p_sites text[] DEFAULT NULL, p_asset text DEFAULT NULL)
  RETURNS TABLE (site_id text, line_id text, machine_id text, cost_centre text, shift_id text, shift_name text, shift_start timestamptz, day date,
                 order_id text, material text, ideal_cycle_time_s double precision, break_s double precision, shift_len_s double precision,
                 slice tstzmultirange, excluded tstzmultirange)
  LANGUAGE sql STABLE AS $$
WITH win AS (SELECT tstzrange(p_from, p_to, '[)') AS r),
m AS (
  SELECT DISTINCT a.asset_id AS machine_id, a.site_id, a.line_id, a.area_id, a.cost_centre
    FROM kpi.machine_series ms JOIN kpi.assets a ON a.asset_id = ms.machine_id
   WHERE ms.role = 'state' AND (p_sites IS NULL OR a.site_id = ANY (p_sites))
     AND (p_asset IS NULL OR p_asset IN (a.asset_id, a.line_id, a.area_id, a.site_id))
),
ex AS (
  SELECT m.machine_id, coalesce(range_agg(x.r) FILTER (WHERE x.r IS NOT NULL AND NOT isempty(x.r)), '{}'::tstzmultirange) AS mr
    FROM m LEFT JOIN (
      SELECT ms.machine_id, tstzrange(i.start_time, coalesce(i.end_time, greatest(now(), i.start_time)), '[)') * w.r AS r
        FROM kpi.machine_series ms JOIN machine_state_intervals i ON i.series_id = ms.series_id CROSS JOIN win w
       WHERE ms.role = 'state' AND i.state = 'unknown' AND i.start_time < p_to AND (i.end_time IS NULL OR i.end_time > p_from)
      UNION ALL
      SELECT ms.machine_id, tstzrange(g.from_time, g.to_time, '[)') * w.r
        FROM kpi.machine_series ms JOIN series s ON s.id = ms.series_id
        JOIN data_gaps g ON g.source_id = s.source_id AND (g.node_id IS NULL OR g.node_id = s.node_id) CROSS JOIN win w
       WHERE g.from_time < p_to AND g.to_time > p_from
    ) x ON x.machine_id = m.machine_id
   GROUP BY m.machine_id
),
sh AS (
  SELECT m.machine_id, m.site_id, m.line_id, m.cost_centre, s.id AS shift_id, s.name AS shift_name, s.valid_from AS shift_start,
         s.validity * w.r AS r, s.planned_break_minutes * 60 AS break_s,
         extract(epoch FROM coalesce(s.valid_to, greatest(p_to, s.valid_from)) - s.valid_from)::double precision AS shift_len_s
    FROM m JOIN shifts s ON s.site_id = m.site_id CROSS JOIN win w
   WHERE s.validity && w.r
),
sl AS (
  SELECT sh.*, o.id AS order_id, o.material, o.ideal_cycle_time_s, tstzmultirange(sh.r * o.validity) AS slice
    FROM sh JOIN production_orders o ON o.asset_id IN (sh.line_id, sh.machine_id) AND o.validity && sh.r
  UNION ALL
  SELECT sh.*, NULL, NULL, NULL,
         tstzmultirange(sh.r) - coalesce((SELECT range_agg(o.validity) FROM production_orders o WHERE o.asset_id IN (sh.line_id, sh.machine_id) AND o.validity && sh.r), '{}'::tstzmultirange)
    FROM sh
)
SELECT sl.site_id, sl.line_id, sl.machine_id, sl.cost_centre, sl.shift_id, sl.shift_name, sl.shift_start, (sl.shift_start AT TIME ZONE p_tz)::date,
       sl.order_id, sl.material, sl.ideal_cycle_time_s, sl.break_s, sl.shift_len_s, sl.slice, ex.mr
  FROM sl JOIN ex ON ex.machine_id = sl.machine_id
 WHERE NOT isempty(sl.slice)
$$;
COMMENT ON FUNCTION kpi.plan_slices(timestamptz, timestamptz, text, text[], text) IS
  'Building block of the KPIs: per machine, the pieces of [p_from, p_to) that are planned (a shift of its site), split by production order, '
  'with the machine''s excluded time (gaps, Bad/Uncertain state). day is the shift''s start date in time zone p_tz.';

-- Increments of the machine counters (total_count, good_count, energy) with their sample time and the
-- time of the previous Good sample. A value below the previous one is a counter reset: the counter
-- restarted at 0, so the increment is the new value.
CREATE FUNCTION kpi.counter_increments(p_from timestamptz, p_to timestamptz, p_machines text[] DEFAULT NULL)
  RETURNS TABLE (machine_id text, role text, sample_time timestamptz, prev_time timestamptz, increment double precision, reset boolean)
  LANGUAGE sql STABLE AS $$
SELECT ms.machine_id, ms.role, x.time, x.prev_time, CASE WHEN x.value >= x.prev THEN x.value - x.prev ELSE x.value END, x.value < x.prev
  FROM kpi.machine_series ms
 CROSS JOIN LATERAL (
   SELECT t.time, t.value, lag(t.value) OVER w AS prev, lag(t.time) OVER w AS prev_time
     FROM (
       (SELECT b.time, b.seq, b.value FROM telemetry b
         WHERE b.series_id = ms.series_id AND b.time < p_from AND b.status >> 30 = 0 AND b.value IS NOT NULL
         ORDER BY b.time DESC, b.seq DESC LIMIT 1)
       UNION ALL
       SELECT t.time, t.seq, t.value FROM telemetry t
        WHERE t.series_id = ms.series_id AND t.time >= p_from AND t.time < p_to AND t.status >> 30 = 0 AND t.value IS NOT NULL
     ) t
   WINDOW w AS (ORDER BY t.time, t.seq)
 ) x
 WHERE ms.role <> 'state' AND (p_machines IS NULL OR ms.machine_id = ANY (p_machines)) AND x.prev IS NOT NULL AND x.time >= p_from
$$;
COMMENT ON FUNCTION kpi.counter_increments(timestamptz, timestamptz, text[]) IS
  'Increments of each machine counter (Good samples only) in [p_from, p_to); a drop is a counter reset and counts the new value.';

-- Everything the KPIs are made of, per slice (machine × shift × order). Aggregate by summing, then divide.
CREATE FUNCTION kpi.oee_slices(p_from timestamptz, p_to timestamptz, p_tz text DEFAULT 'UTC', p_sites text[] DEFAULT NULL, p_asset text DEFAULT NULL)
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
inc AS (
  SELECT * FROM kpi.counter_increments(p_from, p_to, (SELECT array_agg(DISTINCT ps.machine_id) FROM ps))
)
SELECT ps.site_id, ps.line_id, ps.machine_id, ps.cost_centre, ps.shift_id, ps.shift_name, ps.day, ps.order_id, ps.material, ps.ideal_cycle_time_s,
       v.planned_s, v.excluded_s, greatest(v.planned_s - v.excluded_s, 0), v.run_s, v.idle_s, v.down_s, v.failures,
       q.produced, q.good, ps.ideal_cycle_time_s * q.produced, q.excluded_produced, q.resets, q.energy
  FROM ps
 CROSS JOIN LATERAL (
   SELECT kpi.seconds(ps.slice) * (1 - CASE WHEN ps.shift_len_s > 0 THEN ps.break_s / ps.shift_len_s ELSE 0 END) AS planned_s,
          kpi.seconds(ps.slice * ps.excluded) AS excluded_s,
          coalesce((SELECT kpi.seconds(b.mr * ps.slice - ps.excluded) FROM by_state b WHERE b.machine_id = ps.machine_id AND b.state = 'running'), 0) AS run_s,
          coalesce((SELECT kpi.seconds(b.mr * ps.slice - ps.excluded) FROM by_state b WHERE b.machine_id = ps.machine_id AND b.state = 'idle'), 0) AS idle_s,
          coalesce((SELECT kpi.seconds(b.mr * ps.slice - ps.excluded) FROM by_state b WHERE b.machine_id = ps.machine_id AND b.state = 'down'), 0) AS down_s,
          (SELECT count(*) FROM st WHERE st.machine_id = ps.machine_id AND st.state = 'down' AND st.prev_state IS DISTINCT FROM 'down'
              AND ps.slice @> st.start_time AND NOT ps.excluded @> st.start_time) AS failures
 ) v
 CROSS JOIN LATERAL (
   SELECT coalesce(sum(i.increment) FILTER (WHERE i.role = 'total_count' AND NOT i.gap), 0) AS produced,
          coalesce(sum(i.increment) FILTER (WHERE i.role = 'good_count' AND NOT i.gap), 0) AS good,
          coalesce(sum(i.increment) FILTER (WHERE i.role = 'total_count' AND i.gap), 0) AS excluded_produced,
          count(*) FILTER (WHERE i.reset AND i.role = 'total_count') AS resets,
          coalesce(sum(i.increment) FILTER (WHERE i.role = 'energy' AND NOT i.gap), 0) AS energy
     FROM (SELECT inc.*, ps.excluded && tstzrange(inc.prev_time, inc.sample_time, '(]') AS gap
             FROM inc WHERE inc.machine_id = ps.machine_id AND ps.slice @> inc.sample_time) i
 ) q
$$;
COMMENT ON FUNCTION kpi.oee_slices(timestamptz, timestamptz, text, text[], text) IS
  'OEE components per machine × shift × production order in [p_from, p_to): planned time (shift less prorated planned breaks), excluded time '
  '(gaps, Bad/Uncertain state), planned busy time, run/idle/down time, failures (entries into down), produced and good quantity (counter increments; '
  'increments spanning excluded time are reported as excluded_produced), ideal time, counter resets, energy (kWh).';

CREATE FUNCTION kpi.oee(p_from timestamptz, p_to timestamptz, p_by text DEFAULT 'machine', p_tz text DEFAULT 'UTC', p_sites text[] DEFAULT NULL, p_asset text DEFAULT NULL)
  RETURNS TABLE (site_id text, key text, label text, planned_s double precision, excluded_s double precision, planned_busy_s double precision,
                 run_s double precision, idle_s double precision, down_s double precision, failures bigint, produced double precision,
                 good double precision, ideal_s double precision, excluded_produced double precision, counter_resets bigint,
                 availability double precision, performance double precision, quality double precision, oee double precision,
                 mtbf_s double precision, mttr_s double precision)
  LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF p_by IS NULL OR p_by NOT IN ('machine', 'line', 'site', 'shift', 'order', 'day') THEN
    RAISE EXCEPTION 'p_by must be one of machine, line, site, shift, order, day (got %)', p_by USING ERRCODE = '22023';
  END IF;
  RETURN QUERY
  SELECT g.site_id, g.key, g.label, g.planned_s, g.excluded_s, g.planned_busy_s, g.run_s, g.idle_s, g.down_s, g.failures, g.produced, g.good, g.ideal_s,
         g.excluded_produced, g.counter_resets,
         g.run_s / nullif(g.planned_busy_s, 0), g.ideal_s / nullif(g.run_s, 0), g.good / nullif(g.produced, 0),
         (g.run_s / nullif(g.planned_busy_s, 0)) * (g.ideal_s / nullif(g.run_s, 0)) * (g.good / nullif(g.produced, 0)),
         g.run_s / nullif(g.failures, 0), g.down_s / nullif(g.failures, 0)
    FROM (
      SELECT s.site_id,
             CASE p_by WHEN 'machine' THEN s.machine_id WHEN 'line' THEN s.line_id WHEN 'site' THEN s.site_id
                       WHEN 'shift' THEN s.shift_id WHEN 'order' THEN s.order_id ELSE s.day::text END AS key,
             max(CASE p_by WHEN 'shift' THEN s.shift_name WHEN 'order' THEN s.material ELSE NULL END) AS label,
             sum(s.planned_s) AS planned_s, sum(s.excluded_s) AS excluded_s, sum(s.planned_busy_s) AS planned_busy_s, sum(s.run_s) AS run_s,
             sum(s.idle_s) AS idle_s, sum(s.down_s) AS down_s, sum(s.failures)::bigint AS failures, sum(s.produced) AS produced, sum(s.good) AS good,
             -- ideal time is known only where an order gives the ideal cycle time; without one performance is not computed
             CASE WHEN bool_and(s.ideal_cycle_time_s IS NOT NULL OR s.produced = 0) THEN sum(coalesce(s.ideal_s, 0)) END AS ideal_s,
             sum(s.excluded_produced) AS excluded_produced, sum(s.counter_resets)::bigint AS counter_resets
        FROM kpi.oee_slices(p_from, p_to, p_tz, p_sites, p_asset) s
       GROUP BY 1, 2
    ) g
   ORDER BY g.site_id, g.key;
END $$;
COMMENT ON FUNCTION kpi.oee(timestamptz, timestamptz, text, text, text[], text) IS
  'ISO 22400 OEE per machine, line, site, shift, order or day (p_by) in [p_from, p_to): availability = run / planned busy time, '
  'performance = ideal cycle time × produced / run, quality = good / produced, oee = their product; MTBF = run / failures, MTTR = down / failures.';

CREATE FUNCTION kpi.downtime(p_from timestamptz, p_to timestamptz, p_tz text DEFAULT 'UTC', p_sites text[] DEFAULT NULL, p_asset text DEFAULT NULL)
  RETURNS TABLE (site_id text, line_id text, machine_id text, shift_id text, day date, order_id text, state text, reason_code integer,
                 category text, reason text, seconds double precision, occurrences bigint)
  LANGUAGE sql STABLE AS $$
WITH ps AS (SELECT * FROM kpi.plan_slices(p_from, p_to, p_tz, p_sites, p_asset)),
st AS (
  SELECT ms.machine_id, i.state, i.reason_code, i.start_time,
         tstzmultirange(tstzrange(i.start_time, coalesce(i.end_time, greatest(now(), i.start_time)), '[)') * tstzrange(p_from, p_to, '[)')) AS mr
    FROM kpi.machine_series ms JOIN machine_state_intervals i ON i.series_id = ms.series_id
   WHERE ms.role = 'state' AND i.state IN ('idle', 'down') AND ms.machine_id IN (SELECT DISTINCT ps.machine_id FROM ps)
     AND i.start_time < p_to AND (i.end_time IS NULL OR i.end_time > p_from)
)
SELECT ps.site_id, ps.line_id, ps.machine_id, ps.shift_id, ps.day, ps.order_id, st.state, st.reason_code,
       coalesce(rc.category, 'unknown'), coalesce(rc.name, CASE WHEN st.reason_code IS NULL THEN 'no reason given' ELSE 'code ' || st.reason_code END),
       sum(kpi.seconds(st.mr * ps.slice - ps.excluded)), count(*)
  FROM ps JOIN st ON st.machine_id = ps.machine_id AND st.mr && ps.slice
  LEFT JOIN kpi.reason_codes rc ON rc.code = st.reason_code
 WHERE NOT isempty(st.mr * ps.slice - ps.excluded)
 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
$$;
COMMENT ON FUNCTION kpi.downtime(timestamptz, timestamptz, text, text[], text) IS
  'Idle and down time in planned time of [p_from, p_to) by machine, shift, day, order, state and reason (excluded time left out); '
  'occurrences counts state intervals (one spanning two slices counts in each). Group by reason for a Pareto chart.';

CREATE FUNCTION kpi.energy(p_from timestamptz, p_to timestamptz, p_tz text DEFAULT 'UTC', p_sites text[] DEFAULT NULL, p_asset text DEFAULT NULL)
  RETURNS TABLE (site_id text, order_id text, material text, cost_centre text, energy_kwh double precision, good double precision, kwh_per_good_unit double precision)
  LANGUAGE sql STABLE AS $$
SELECT s.site_id, s.order_id, max(s.material), s.cost_centre, sum(s.energy_kwh), sum(s.good), sum(s.energy_kwh) / nullif(sum(s.good), 0)
  FROM kpi.oee_slices(p_from, p_to, p_tz, p_sites, p_asset) s
 GROUP BY s.site_id, s.order_id, s.cost_centre
 ORDER BY s.site_id, s.order_id NULLS LAST, s.cost_centre
$$;
COMMENT ON FUNCTION kpi.energy(timestamptz, timestamptz, text, text[], text) IS
  'Energy (kWh, from energy meter increments in planned, non-excluded time) and energy per good unit by production order and cost centre.';

CREATE FUNCTION kpi.completeness(p_from timestamptz, p_to timestamptz)
  RETURNS TABLE (series_id integer, status text, from_time timestamptz, to_time timestamptz, detected_by text, reason text)
  LANGUAGE sql STABLE AS $$
SELECT c.series_id, c.status, greatest(c.from_time, p_from), least(c.to_time, p_to), c.detected_by, c.reason
  FROM data_completeness c
 WHERE c.from_time < p_to AND c.to_time > p_from
$$;
COMMENT ON FUNCTION kpi.completeness(timestamptz, timestamptz) IS 'Covered and missing intervals per series (data_completeness), clipped to [p_from, p_to).';

CREATE VIEW kpi.oee_today AS SELECT * FROM kpi.oee(date_trunc('day', now(), 'UTC'), now(), 'machine');
COMMENT ON VIEW kpi.oee_today IS 'OEE per machine since midnight (UTC, the session''s time zone does not matter): SELECT * FROM kpi.oee_today.';
CREATE VIEW kpi.downtime_pareto_7d AS
SELECT d.reason_code, d.category, d.reason, sum(d.seconds) AS seconds, sum(d.occurrences) AS occurrences
  FROM kpi.downtime(now() - interval '7 days', now()) d GROUP BY 1, 2, 3 ORDER BY 4 DESC;
COMMENT ON VIEW kpi.downtime_pareto_7d IS 'Downtime by reason over the last 7 days, largest first.';
