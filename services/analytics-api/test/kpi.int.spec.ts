import type { TestDatabase } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningAnalyticsApi } from '../src/index';
import { get, KEYS, qs, queryRows, runSql, scenarioDatabase, startTestApi, testSettings } from './helpers';

// The scenario (test/scenario.sql), machine hh-m1 on line hh-l1, 2024-03-04 UTC:
//   shifts  early 06:00-14:00, late 14:00-22:00, 30 min planned break each -> planned time 8 h - 0.5 h = 27000 s per shift
//   orders  PO-1 06:00-12:00 (ideal cycle 18 s), PO-2 12:00-22:00 (ideal cycle 12 s)
//   states  running except: down 08:00-08:30 (303 jam), idle 10:00-10:30 (101 break), down 16:00-16:45 (301 mechanical),
//           idle 17:00-17:30 (101 break), unknown 20:00-20:15 (Bad data), down 21:00-21:30 (303 jam)
//   gap     whole source 18:00-19:00 (connector)
//   counters (total / good / energy kWh) at 05:59 1000/990/500, 07:59 1200/1185/520, 11:59 1800/1775/560, 13:59 2400/2360/600,
//           15:00 200/190/620 (reset), 17:59 500/485/650, 19:30 800/780/680 (span crosses the gap), 19:59 850/830/685,
//           20:16 850/830/686 (span crosses the unknown stretch), 21:59 1150/1120/716
const H = 3600;
const early = {
  planned: 8 * H - 0.5 * H, // 27000
  excluded: 0,
  run: 2 * H + 1.5 * H + 3.5 * H, // 06-08, 08:30-10, 10:30-14 = 25200
  down: 0.5 * H,
  idle: 0.5 * H,
  produced: 200 + 600 + 600, // 07:59, 11:59, 13:59
  good: 195 + 590 + 585,
  ideal: 18 * (200 + 600) + 12 * 600, // PO-1 then PO-2 = 21600
  failures: 1,
};
const late = {
  planned: 8 * H - 0.5 * H, // 27000
  excluded: 1 * H + 0.25 * H, // gap 18-19 + unknown 20:00-20:15 = 4500
  run: 2 * H + 0.25 * H + (2.5 * H - 1 * H) + 0.75 * H + 0.5 * H, // 14-16, 16:45-17, 17:30-20 less the gap, 20:15-21, 21:30-22 = 18000
  down: 0.75 * H + 0.5 * H, // 4500
  idle: 0.5 * H,
  produced: 200 + 300 + 50 + 300, // reset counts the new value 200; 19:30 and 20:16 spans excluded
  good: 190 + 295 + 50 + 290,
  ideal: 12 * (200 + 300 + 50 + 300), // 10200
  failures: 2,
  excludedProduced: 300 + 0,
};
const busy = (s: { planned: number; excluded: number }) => s.planned - s.excluded;
const oee = (s: typeof early) => (s.run / busy(s)) * (s.ideal / s.run) * (s.good / s.produced);

const FROM = '2024-03-04T00:00:00Z';
const TO = '2024-03-05T00:00:00Z';

let db: TestDatabase;
let api: RunningAnalyticsApi;

beforeAll(async () => {
  db = await scenarioDatabase(inject('databaseUrl'));
  api = await startTestApi(testSettings(db.url));
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

type Row = Record<string, number | string | null>;
const rowsOf = (body: Record<string, unknown>) => body['rows'] as Row[];
const byKey = (rows: Row[], key: string) => {
  const r = rows.find((x) => x['key'] === key);
  if (!r) throw new Error(`no row ${key} in ${JSON.stringify(rows)}`);
  return r;
};

describe('OEE of the scenario', () => {
  it('per shift, through the API, equals the hand-computed values', async () => {
    const res = await get(api, `/v1/kpi/oee?${qs({ from: FROM, to: TO, by: 'shift', asset: 'hh-m1' })}`, { key: KEYS.hhViewer.key });
    expect(res.status).toBe(200);
    const rows = rowsOf(res.body);
    expect(rows.map((r) => r['key'])).toEqual(['hh-early', 'hh-late']);
    for (const [key, s] of [['hh-early', early], ['hh-late', late]] as const) {
      const r = byKey(rows, key);
      expect(r['plannedTimeS']).toBeCloseTo(s.planned, 6);
      expect(r['excludedTimeS']).toBeCloseTo(s.excluded, 6);
      expect(r['plannedBusyTimeS']).toBeCloseTo(busy(s), 6);
      expect(r['runTimeS']).toBeCloseTo(s.run, 6);
      expect(r['downTimeS']).toBeCloseTo(s.down, 6);
      expect(r['idleTimeS']).toBeCloseTo(s.idle, 6);
      expect(r['producedQuantity']).toBe(s.produced);
      expect(r['goodQuantity']).toBe(s.good);
      expect(r['idealTimeS']).toBeCloseTo(s.ideal, 6);
      expect(r['failures']).toBe(s.failures);
      expect(r['availability']).toBeCloseTo(s.run / busy(s), 12);
      expect(r['performance']).toBeCloseTo(s.ideal / s.run, 12);
      expect(r['quality']).toBeCloseTo(s.good / s.produced, 12);
      expect(r['oee']).toBeCloseTo(oee(s), 12);
    }
    expect(byKey(rows, 'hh-early')['oee']).toBeCloseTo(0.8 * (1370 / 1400), 12);
    expect(byKey(rows, 'hh-late')['oee']).toBeCloseTo(0.44, 12);
    expect(byKey(rows, 'hh-late')['excludedQuantity']).toBe(late.excludedProduced);
    expect(byKey(rows, 'hh-late')['counterResets']).toBe(1);
  });

  it('per machine adds up both shifts, with MTBF and MTTR', async () => {
    const res = await get(api, `/v1/kpi/oee?${qs({ from: FROM, to: TO, by: 'machine' })}`, { key: KEYS.hhViewer.key });
    const r = byKey(rowsOf(res.body), 'hh-m1');
    const run = early.run + late.run;
    const b = busy(early) + busy(late);
    expect(r['availability']).toBeCloseTo(run / b, 12); // 43200 / 49500
    expect(r['performance']).toBeCloseTo((early.ideal + late.ideal) / run, 12); // 31800 / 43200
    expect(r['quality']).toBeCloseTo((early.good + late.good) / (early.produced + late.produced), 12); // 2195 / 2250
    const rel = await get(api, `/v1/kpi/reliability?${qs({ from: FROM, to: TO, by: 'machine' })}`, { key: KEYS.hhViewer.key });
    const m = byKey(rowsOf(rel.body), 'hh-m1');
    expect(m['failures']).toBe(3);
    expect(m['mtbfS']).toBeCloseTo(run / 3, 9); // 14400 s
    expect(m['mttrS']).toBeCloseTo((early.down + late.down) / 3, 9); // 2100 s
  });

  it('per production order splits at the order change', async () => {
    const res = await get(api, `/v1/kpi/oee?${qs({ from: FROM, to: TO, by: 'order', asset: 'hh' })}`, { key: KEYS.hhViewer.key });
    const rows = rowsOf(res.body);
    expect(rows.map((r) => r['key'])).toEqual(['PO-1', 'PO-2']);
    const po1 = byKey(rows, 'PO-1');
    // PO-1 is 6 h of the early shift: planned 6 h less 6/8 of the 30 min break
    expect(po1['plannedTimeS']).toBeCloseTo(6 * H * (1 - 0.5 / 8), 6);
    expect(po1['runTimeS']).toBeCloseTo(2 * H + 1.5 * H + 1.5 * H, 6);
    expect(po1['producedQuantity']).toBe(800);
    expect(po1['goodQuantity']).toBe(785);
    expect(po1['performance']).toBeCloseTo((18 * 800) / (5 * H), 12);
    const po2 = byKey(rows, 'PO-2');
    expect(po2['plannedBusyTimeS']).toBeCloseTo(2 * H * (1 - 0.5 / 8) + busy(late), 6);
    expect(po2['producedQuantity']).toBe(600 + late.produced);
  });

  it('per line, site and day equals per machine here (one machine, one day)', async () => {
    const machine = byKey(rowsOf((await get(api, `/v1/kpi/oee?${qs({ from: FROM, to: TO, by: 'machine' })}`, { key: KEYS.admin.key })).body), 'hh-m1')['oee'];
    for (const [by, key] of [['line', 'hh-l1'], ['site', 'hh'], ['day', '2024-03-04']] as const) {
      const res = await get(api, `/v1/kpi/oee?${qs({ from: FROM, to: TO, by })}`, { key: KEYS.admin.key });
      expect(byKey(rowsOf(res.body), key)['oee']).toBeCloseTo(machine as number, 12);
    }
  });

  it('downtime Pareto by reason: breaks and jams 3600 s each, mechanical 2700 s', async () => {
    const res = await get(api, `/v1/kpi/downtime?${qs({ from: FROM, to: TO, by: 'reason', asset: 'hh-m1' })}`, { key: KEYS.hhViewer.key });
    expect(res.status).toBe(200);
    const rows = rowsOf(res.body);
    expect(rows.map((r) => [r['reasonCode'], r['seconds'], r['occurrences']])).toEqual([
      [101, 3600, 2],
      [303, 3600, 2],
      [301, 2700, 1],
    ]);
    expect(res.body['totalS']).toBe(9900);
    expect(rows[2]!['cumulativeShare']).toBeCloseTo(1, 12);
    const down = await get(api, `/v1/kpi/downtime?${qs({ from: FROM, to: TO, by: 'category', state: 'down' })}`, { key: KEYS.hhViewer.key });
    expect(rowsOf(down.body).map((r) => [r['key'], r['seconds']])).toEqual([['technical', 6300]]);
  });

  it('energy per good unit by order and cost centre', async () => {
    const res = await get(api, `/v1/kpi/energy?${qs({ from: FROM, to: TO })}`, { key: KEYS.hhViewer.key });
    const rows = rowsOf(res.body);
    expect(rows.map((r) => [r['orderId'], r['costCentre'], r['energyKwh'], r['goodQuantity']])).toEqual([
      ['PO-1', 'CC-100', 20 + 40, 785],
      ['PO-2', 'CC-100', 40 + 20 + 30 + 5 + 30, 1410],
    ]);
    expect(rows[0]!['kwhPerGoodUnit']).toBeCloseTo(60 / 785, 12);
  });

  it('a site-B caller sees only site B rows in the same KPI', async () => {
    const res = await get(api, `/v1/kpi/oee?${qs({ from: FROM, to: TO, by: 'machine' })}`, { key: KEYS.mucViewer.key });
    expect(rowsOf(res.body).map((r) => r['key'])).toEqual(['muc-m1']);
  });
});

// A machine that runs through its planned break (site muc, the next day, so the day above is untouched):
//   shifts  muc-early-2 06:00-14:00 and muc-late-2 14:00-22:00 on 2024-03-05, 30 min planned break each
//   order   PO-M2 06:00-22:00 on line muc-l1 (ideal cycle 10 s)
//   states  muc-m1 running 06:00-14:00 (straight through the break); running 14:00-17:00, idle 17:00-17:30 (101 break),
//           running 17:30-21:00, down 21:00-22:00 (303 jam)
//   counters (total = good) 0 at 05:59, 2820 at 13:59, 5120 at 21:59
// Breaks have no times, only minutes: a break is planned stop time only as far as the machine stopped, so the
// early shift's 30 min it ran through are planned (and run) time, and the late shift takes its break in the idle stop.
const ranThrough = {
  planned: 8 * H, // 28800: 8 h less the 30 min break plus the 30 min run through it
  run: 8 * H,
  idle: 0,
  down: 0,
  produced: 2820,
  ideal: 10 * 2820, // 28200
};
const tookBreak = {
  planned: 8 * H - 0.5 * H, // 27000
  run: 3 * H + 3.5 * H, // 23400
  idle: 0.5 * H,
  down: 1 * H,
  produced: 5120 - 2820, // 2300
  ideal: 10 * 2300, // 23000
};
const DAY2 = { from: '2024-03-05T00:00:00Z', to: '2024-03-06T00:00:00Z' };

describe('OEE of a machine that runs through its planned break', () => {
  beforeAll(async () => {
    await runSql(
      db.url,
      `INSERT INTO series (id, source_id, node_id, browse_path, data_type, asset_id, first_seen, last_seen) VALUES
         (8, 'plc-muc', 'ns=3;s=F1.TotalCount', 'F1/TotalCount', 'UInt32', 'muc-m1', '2024-03-05T05:00Z', '2024-03-05T23:00Z'),
         (9, 'plc-muc', 'ns=3;s=F1.GoodCount', 'F1/GoodCount', 'UInt32', 'muc-m1', '2024-03-05T05:00Z', '2024-03-05T23:00Z');
       INSERT INTO shifts (id, valid_from, valid_to, site_id, name, planned_break_minutes, changed_at) VALUES
         ('muc-early-2', '2024-03-05T06:00Z', '2024-03-05T14:00Z', 'muc', 'early', 30, '2024-03-01Z'),
         ('muc-late-2', '2024-03-05T14:00Z', '2024-03-05T22:00Z', 'muc', 'late', 30, '2024-03-01Z');
       INSERT INTO production_orders (id, valid_from, valid_to, asset_id, material, planned_quantity, ideal_cycle_time_s, status, changed_at) VALUES
         ('PO-M2', '2024-03-05T06:00Z', '2024-03-05T22:00Z', 'muc-l1', 'BOTTLE', 5000, 10, 'completed', '2024-03-05T22:00Z');
       INSERT INTO machine_state_intervals (series_id, start_time, end_time, state, reason_code) VALUES
         (6, '2024-03-05T06:00Z', '2024-03-05T17:00Z', 'running', NULL),
         (6, '2024-03-05T17:00Z', '2024-03-05T17:30Z', 'idle', 101),
         (6, '2024-03-05T17:30Z', '2024-03-05T21:00Z', 'running', NULL),
         (6, '2024-03-05T21:00Z', '2024-03-05T22:00Z', 'down', 303),
         (6, '2024-03-05T22:00Z', NULL, 'idle', 105);
       INSERT INTO telemetry (time, series_id, value, status, seq)
       SELECT v.t::timestamptz, s.id, v.n, 0, v.seq * 10 + s.id
         FROM (VALUES ('2024-03-05T05:59Z', 0, 1), ('2024-03-05T13:59Z', 2820, 2), ('2024-03-05T21:59Z', 5120, 3)) AS v(t, n, seq)
        CROSS JOIN (VALUES (8), (9)) AS s(id);`,
    );
  });

  it('per shift, through the API: availability 1 where it ran through the break, no more', async () => {
    const res = await get(api, `/v1/kpi/oee?${qs({ ...DAY2, by: 'shift' })}`, { key: KEYS.mucViewer.key });
    expect(res.status).toBe(200);
    const rows = rowsOf(res.body);
    expect(rows.map((r) => r['key'])).toEqual(['muc-early-2', 'muc-late-2']);
    for (const [key, s] of [['muc-early-2', ranThrough], ['muc-late-2', tookBreak]] as const) {
      const r = byKey(rows, key);
      expect(r['plannedTimeS']).toBeCloseTo(s.planned, 6);
      expect(r['plannedBusyTimeS']).toBeCloseTo(s.planned, 6);
      expect(r['runTimeS']).toBeCloseTo(s.run, 6);
      expect(r['idleTimeS']).toBeCloseTo(s.idle, 6);
      expect(r['downTimeS']).toBeCloseTo(s.down, 6);
      expect(r['producedQuantity']).toBe(s.produced);
      expect(r['availability']).toBeCloseTo(s.run / s.planned, 12);
      expect(r['performance']).toBeCloseTo(s.ideal / s.run, 12);
      expect(r['quality']).toBe(1);
    }
    expect(byKey(rows, 'muc-early-2')['availability']).toBeCloseTo(1, 12); // 28800 / 28800, not 28800 / 27000
    expect(byKey(rows, 'muc-early-2')['oee']).toBeCloseTo(28200 / 28800, 12);
    expect(byKey(rows, 'muc-late-2')['availability']).toBeCloseTo(23400 / 27000, 12);
  });

  it('per machine, the run through one break does not hide the other shift\'s losses', async () => {
    const res = await get(api, `/v1/kpi/oee?${qs({ ...DAY2, by: 'machine' })}`, { key: KEYS.mucViewer.key });
    const r = byKey(rowsOf(res.body), 'muc-m1');
    expect(r['plannedBusyTimeS']).toBeCloseTo(ranThrough.planned + tookBreak.planned, 6); // 55800
    expect(r['availability']).toBeCloseTo((ranThrough.run + tookBreak.run) / (ranThrough.planned + tookBreak.planned), 12); // 52200 / 55800
    expect(r['performance']).toBeCloseTo((ranThrough.ideal + tookBreak.ideal) / (ranThrough.run + tookBreak.run), 12); // 51200 / 52200
    const order = byKey(rowsOf((await get(api, `/v1/kpi/oee?${qs({ ...DAY2, by: 'order' })}`, { key: KEYS.mucViewer.key })).body), 'PO-M2');
    expect(order['availability']).toBeCloseTo(52200 / 55800, 12);
  });

  it('kpi.oee and kpi.oee_slices in SQL: availability at most 1, planned time 8 h where it ran through', async () => {
    const rows = await queryRows<{ key: string; planned_s: number; run_s: number; availability: number }>(
      db.url,
      `SELECT key, planned_s, run_s, availability FROM kpi.oee($1, $2, 'shift', 'UTC', '{muc}') ORDER BY key`,
      [DAY2.from, DAY2.to],
    );
    expect(rows.map((r) => [r.key, r.planned_s, r.run_s])).toEqual([
      ['muc-early-2', 28800, 28800],
      ['muc-late-2', 27000, 23400],
    ]);
    expect(rows[0]!.availability).toBeCloseTo(1, 12);
    const over = await queryRows<{ n: string }>(db.url, `SELECT count(*) AS n FROM kpi.oee_slices($1, $2) WHERE run_s > planned_busy_s + 1e-6`, [DAY2.from, DAY2.to]);
    expect(over[0]!.n).toBe('0');
  });

  it('leaves the scenario day as it was: the break is taken in the stops there', async () => {
    const rows = rowsOf((await get(api, `/v1/kpi/oee?${qs({ from: FROM, to: TO, by: 'shift', asset: 'hh-m1' })}`, { key: KEYS.hhViewer.key })).body);
    expect(byKey(rows, 'hh-early')['plannedTimeS']).toBeCloseTo(early.planned, 6);
    expect(byKey(rows, 'hh-late')['plannedTimeS']).toBeCloseTo(late.planned, 6);
  });
});

describe('the same numbers in SQL (kpi.*)', () => {
  it('kpi.oee per shift equals the hand-computed values', async () => {
    const rows = await queryRows<{ key: string; availability: number; performance: number; quality: number; oee: number; excluded_s: number }>(
      db.url,
      `SELECT key, availability, performance, quality, oee, excluded_s FROM kpi.oee($1, $2, 'shift') WHERE site_id = 'hh' ORDER BY key`,
      [FROM, TO],
    );
    expect(rows.map((r) => r.key)).toEqual(['hh-early', 'hh-late']);
    expect(rows[0]!.oee).toBeCloseTo(oee(early), 12);
    expect(rows[1]!.oee).toBeCloseTo(oee(late), 12);
    expect(rows[1]!.availability).toBeCloseTo(0.8, 12);
    expect(rows[1]!.excluded_s).toBe(4500);
  });

  it('kpi.downtime summed by reason, and kpi.energy, agree with the API', async () => {
    const pareto = await queryRows<{ reason_code: number; seconds: number }>(
      db.url,
      `SELECT reason_code, sum(seconds) AS seconds FROM kpi.downtime($1, $2) WHERE machine_id = 'hh-m1' GROUP BY reason_code ORDER BY seconds DESC, reason_code`,
      [FROM, TO],
    );
    expect(pareto).toEqual([
      { reason_code: 101, seconds: 3600 },
      { reason_code: 303, seconds: 3600 },
      { reason_code: 301, seconds: 2700 },
    ]);
    const energy = await queryRows<{ order_id: string; kwh_per_good_unit: number }>(db.url, `SELECT order_id, kwh_per_good_unit FROM kpi.energy($1, $2) WHERE site_id = 'hh'`, [FROM, TO]);
    expect(energy.find((e) => e.order_id === 'PO-2')!.kwh_per_good_unit).toBeCloseTo(125 / 1410, 12);
  });

  it('kpi.oee refuses an unknown grouping with a clear error', async () => {
    await expect(queryRows(db.url, `SELECT * FROM kpi.oee($1, $2, 'weekday')`, [FROM, TO])).rejects.toThrow(/p_by must be one of machine, line, site, shift, order, day/);
  });
});
