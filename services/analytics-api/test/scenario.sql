-- A hand-computable day at two sites (2024-03-04, UTC); the expected KPIs are worked out in kpi.int.spec.ts.
-- Site hh: line hh-l1 with machine hh-m1 (cost centre CC-100). Site muc: line muc-l1 with machine muc-m1.
INSERT INTO assets (id, valid_from, parent_id, level, name, path, cost_centre, changed_at) VALUES
  ('acme',   '2020-01-01Z', NULL,     'enterprise', 'ACME',         'acme',                        NULL,     '2020-01-01Z'),
  ('hh',     '2020-01-01Z', 'acme',   'site',       'Hamburg',      'acme/hh',                     NULL,     '2020-01-01Z'),
  ('hh-a1',  '2020-01-01Z', 'hh',     'area',       'Pressing',     'acme/hh/hh-a1',               NULL,     '2020-01-01Z'),
  ('hh-l1',  '2020-01-01Z', 'hh-a1',  'line',       'Line 1',       'acme/hh/hh-a1/hh-l1',         'CC-100', '2020-01-01Z'),
  ('hh-m1',  '2020-01-01Z', 'hh-l1',  'machine',    'Press 1',      'acme/hh/hh-a1/hh-l1/hh-m1',   'CC-100', '2020-01-01Z'),
  ('muc',    '2020-01-01Z', 'acme',   'site',       'Munich',       'acme/muc',                    NULL,     '2020-01-01Z'),
  ('muc-l1', '2020-01-01Z', 'muc',    'line',       'Line 1',       'acme/muc/muc-l1',             'CC-200', '2020-01-01Z'),
  ('muc-m1', '2020-01-01Z', 'muc-l1', 'machine',    'Filler 1',     'acme/muc/muc-l1/muc-m1',      'CC-200', '2020-01-01Z');

INSERT INTO series (id, source_id, node_id, browse_path, data_type, asset_id, unit, first_seen, last_seen) VALUES
  (1, 'plc-hh', 'ns=3;s=M1.State',       'M1/State',       'String', 'hh-m1', NULL,  '2024-03-04T05:00Z', '2024-03-04T23:00Z'),
  (2, 'plc-hh', 'ns=3;s=M1.TotalCount',  'M1/TotalCount',  'UInt32', 'hh-m1', NULL,  '2024-03-04T05:00Z', '2024-03-04T23:00Z'),
  (3, 'plc-hh', 'ns=3;s=M1.GoodCount',   'M1/GoodCount',   'UInt32', 'hh-m1', NULL,  '2024-03-04T05:00Z', '2024-03-04T23:00Z'),
  (4, 'plc-hh', 'ns=3;s=M1.EnergyMeter', 'M1/EnergyMeter', 'Double', 'hh-m1', 'kWh', '2024-03-04T05:00Z', '2024-03-04T23:00Z'),
  (5, 'plc-hh', 'ns=3;s=M1.Temperature', 'M1/Temperature', 'Double', 'hh-m1', 'CEL', '2024-03-04T05:00Z', '2024-03-04T23:00Z'),
  (6, 'plc-muc', 'ns=3;s=F1.State',      'F1/State',       'String', 'muc-m1', NULL, '2024-03-04T05:00Z', '2024-03-04T23:00Z'),
  (7, 'plc-muc', 'ns=3;s=F1.Temperature', 'F1/Temperature', 'Double', 'muc-m1', 'CEL', '2024-03-04T05:00Z', '2024-03-04T23:00Z');

-- Two shifts of 8 h with 30 min planned break each.
INSERT INTO shifts (id, valid_from, valid_to, site_id, name, planned_break_minutes, changed_at) VALUES
  ('hh-early', '2024-03-04T06:00Z', '2024-03-04T14:00Z', 'hh', 'early', 30, '2024-03-01Z'),
  ('hh-late',  '2024-03-04T14:00Z', '2024-03-04T22:00Z', 'hh', 'late',  30, '2024-03-01Z'),
  ('muc-day',  '2024-03-04T06:00Z', '2024-03-04T14:00Z', 'muc', 'day',  0,  '2024-03-01Z');

-- One order change at 12:00.
INSERT INTO production_orders (id, valid_from, valid_to, asset_id, material, planned_quantity, ideal_cycle_time_s, status, changed_at) VALUES
  ('PO-1', '2024-03-04T06:00Z', '2024-03-04T12:00Z', 'hh-l1', 'BRACKET-A', 800, 18, 'completed', '2024-03-04T12:00Z'),
  ('PO-2', '2024-03-04T12:00Z', '2024-03-04T22:00Z', 'hh-l1', 'BRACKET-B', 1500, 12, 'completed', '2024-03-04T22:00Z'),
  ('PO-9', '2024-03-04T06:00Z', '2024-03-04T14:00Z', 'muc-l1', 'BOTTLE', 1000, 5, 'completed', '2024-03-04T14:00Z');

-- Three downtimes with reasons (303, 301, 303), two breaks (101), a Bad-data stretch (unknown).
INSERT INTO machine_state_intervals (series_id, start_time, end_time, state, reason_code) VALUES
  (1, '2024-03-04T06:00Z', '2024-03-04T08:00Z', 'running', NULL),
  (1, '2024-03-04T08:00Z', '2024-03-04T08:30Z', 'down', 303),
  (1, '2024-03-04T08:30Z', '2024-03-04T10:00Z', 'running', NULL),
  (1, '2024-03-04T10:00Z', '2024-03-04T10:30Z', 'idle', 101),
  (1, '2024-03-04T10:30Z', '2024-03-04T16:00Z', 'running', NULL),
  (1, '2024-03-04T16:00Z', '2024-03-04T16:45Z', 'down', 301),
  (1, '2024-03-04T16:45Z', '2024-03-04T17:00Z', 'running', NULL),
  (1, '2024-03-04T17:00Z', '2024-03-04T17:30Z', 'idle', 101),
  (1, '2024-03-04T17:30Z', '2024-03-04T20:00Z', 'running', NULL),
  (1, '2024-03-04T20:00Z', '2024-03-04T20:15Z', 'unknown', NULL),
  (1, '2024-03-04T20:15Z', '2024-03-04T21:00Z', 'running', NULL),
  (1, '2024-03-04T21:00Z', '2024-03-04T21:30Z', 'down', 303),
  (1, '2024-03-04T21:30Z', '2024-03-04T22:00Z', 'running', NULL),
  (1, '2024-03-04T22:00Z', NULL, 'idle', 105),
  (6, '2024-03-04T06:00Z', '2024-03-04T14:00Z', 'running', NULL);

-- The connector lost the whole source for an hour.
INSERT INTO data_gaps (source_id, node_id, from_time, to_time, detected_by, reason, event_id) VALUES
  ('plc-hh', NULL, '2024-03-04T18:00Z', '2024-03-04T19:00Z', 'connector', 'connection lost', 'gap-1');

-- Counters: a reset at 15:00; the 19:30 and 20:16 samples close spans that cross excluded time.
INSERT INTO telemetry (time, series_id, value, status, seq)
SELECT v.t::timestamptz, s.id, CASE s.id WHEN 2 THEN v.total WHEN 3 THEN v.good ELSE v.energy END, 0, v.seq * 10 + s.id
  FROM (VALUES
    ('2024-03-04T05:59Z', 1000, 990, 500, 1),
    ('2024-03-04T07:59Z', 1200, 1185, 520, 2),
    ('2024-03-04T11:59Z', 1800, 1775, 560, 3),
    ('2024-03-04T13:59Z', 2400, 2360, 600, 4),
    ('2024-03-04T15:00Z', 200, 190, 620, 5),
    ('2024-03-04T17:59Z', 500, 485, 650, 6),
    ('2024-03-04T19:30Z', 800, 780, 680, 7),
    ('2024-03-04T19:59Z', 850, 830, 685, 8),
    ('2024-03-04T20:16Z', 850, 830, 686, 9),
    ('2024-03-04T21:59Z', 1150, 1120, 716, 10)
  ) AS v(t, total, good, energy, seq)
 CROSS JOIN (VALUES (2), (3), (4)) AS s(id);
-- A Bad counter sample (status 0x80000000) that KPIs must ignore.
INSERT INTO telemetry (time, series_id, value, status, seq) VALUES ('2024-03-04T09:00Z', 2, 99999, 2147483648, 1000);

-- Temperature every 10 minutes from 06:00 to 07:00 with one Bad sample at 06:30; nothing 07:00-07:30.
INSERT INTO telemetry (time, series_id, value, status, seq)
SELECT '2024-03-04T06:00Z'::timestamptz + make_interval(mins => 10 * i), 5, 20 + i, CASE WHEN i = 3 THEN 2147483648 ELSE 0 END, 2000 + i
  FROM generate_series(0, 6) i;
INSERT INTO telemetry (time, series_id, value, status, seq) VALUES ('2024-03-04T07:30Z', 5, 40, 0, 2100);
INSERT INTO telemetry (time, series_id, value, status, seq) VALUES ('2024-03-04T06:00Z', 7, 4, 0, 1), ('2024-03-04T07:00Z', 7, 5, 0, 2);
INSERT INTO telemetry_other (time, series_id, value_text, status, seq) VALUES ('2024-03-04T21:30Z', 1, 'running', 0, 3000), ('2024-03-04T22:00Z', 1, 'idle', 0, 3001);

-- Two alerts from the correlator: one about a site-hh machine, one about a site-muc machine.
INSERT INTO alerts (time, finding_uid, activity_id, severity_id, status_id, title, analytic_uid, analytic_name, attack_techniques, resource_uids, finding) VALUES
  ('2024-03-04T09:00Z', 'f-hh-1', 1, 4, 1, 'Setpoint changed from a VPN session', 'r-1', 'remote setpoint change', '{T0836,T0822}', '{hh-m1}', '{}'),
  ('2024-03-04T10:00Z', 'f-muc-1', 1, 3, 1, 'Program download', 'r-2', 'program download', '{T0843}', '{muc-m1}', '{}');
