import type { TestDatabase } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningAnalyticsApi } from '../src/index';
import { get, KEYS, qs, queryRows, scenarioDatabase, startTestApi, testSettings } from './helpers';

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
