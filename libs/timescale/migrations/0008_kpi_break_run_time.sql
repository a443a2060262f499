-- KPIs: a machine that keeps running through its planned break no longer gets availability above 1
-- (docs: services/analytics-api/README.md, "KPI definitions").
-- Released: never edit this file; add a new numbered migration instead.
--
-- A shift gives its planned breaks only as minutes (shifts.planned_break_minutes), not as times, so 0007
-- took them off planned time prorated over the shift while run time counted every running second: a
-- machine that ran through the break had more run time than planned busy time. The rule now is the one
-- OEE practice uses for breaks: a planned break is planned stop time only as far as the machine stopped.
-- Per machine and shift (the part in the query window), the break is taken from the time the machine was
-- not running first; the break time it ran through -- its run time beyond planned busy time, at most the
-- break -- is production time, so it is added back to planned time (prorated over the shift's slices like
-- the break). Run time, quantities and energy stay what the machine did, so availability is at most 1
-- per shift and over any grouping of whole shifts, and performance (ideal time / run time) is not inflated
-- by parts made during the break, as it would be if that run time were dropped while its parts counted.
-- Signatures and columns are unchanged; kpi.oee, kpi.energy and the views read kpi.oee_slices.
-- Also: counter increments are joined to the slices by machine, where 0007 scanned every machine's
-- increments once per slice (same numbers, much less work over long windows with many slices).

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
inc AS (
  SELECT * FROM kpi.counter_increments(p_from, p_to, (SELECT array_agg(DISTINCT ps.machine_id) FROM ps))
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
-- Counter increments per slice, joined by machine (0007 scanned every machine's increments once per slice).
q AS (
  SELECT bt.slice_no,
         coalesce(sum(i.increment) FILTER (WHERE i.role = 'total_count' AND NOT i.gap), 0) AS produced,
         coalesce(sum(i.increment) FILTER (WHERE i.role = 'good_count' AND NOT i.gap), 0) AS good,
         coalesce(sum(i.increment) FILTER (WHERE i.role = 'total_count' AND i.gap), 0) AS excluded_produced,
         count(*) FILTER (WHERE i.reset AND i.role = 'total_count') AS resets,
         coalesce(sum(i.increment) FILTER (WHERE i.role = 'energy' AND NOT i.gap), 0) AS energy
    FROM bt JOIN inc ON inc.machine_id = bt.machine_id AND bt.slice @> inc.sample_time
   CROSS JOIN LATERAL (SELECT inc.role, inc.increment, inc.reset, bt.excluded && tstzrange(inc.prev_time, inc.sample_time, '(]') AS gap) i
   GROUP BY bt.slice_no
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
  '(gaps, Bad/Uncertain state), planned busy time, run/idle/down time, failures (entries into down), produced and good quantity (counter increments; '
  'increments spanning excluded time are reported as excluded_produced), ideal time, counter resets, energy (kWh).';

COMMENT ON FUNCTION kpi.oee(timestamptz, timestamptz, text, text, text[], text) IS
  'ISO 22400 OEE per machine, line, site, shift, order or day (p_by) in [p_from, p_to): availability = run / planned busy time (at most 1 per shift: '
  'break time a machine runs through counts as planned time), performance = ideal cycle time × produced / run, quality = good / produced, '
  'oee = their product; MTBF = run / failures, MTTR = down / failures.';
