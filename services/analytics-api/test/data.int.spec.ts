import type { TestDatabase } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningAnalyticsApi } from '../src/index';
import { get, KEYS, qs, rollUp, scenarioDatabase, startTestApi, testSettings, token } from './helpers';

// Temperature (series 5) in the scenario: 20, 21, 22, 23 (Bad), 24, 25, 26 every 10 min from 06:00, then 40 at 07:30.

let db: TestDatabase;
let api: RunningAnalyticsApi;
const admin = { key: KEYS.admin.key };

beforeAll(async () => {
  db = await scenarioDatabase(inject('databaseUrl'));
  // The rollups as the sink would have maintained them: bucketed queries and the series statistics read them.
  await rollUp(db.url, [1, 2, 3, 4, 5, 6, 7], '2024-03-04T00:00:00Z', '2024-03-05T00:00:00Z');
  api = await startTestApi(testSettings(db.url, { rateLimit: { perMinute: 0, burst: 1 } }));
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

type Point = Record<string, number | string | boolean | null>;
async function points(params: Record<string, string>): Promise<Point[]> {
  const res = await get(api, `/v1/timeseries?${qs(params)}`, admin);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return (res.body['series'] as { points: Point[] }[])[0]!.points;
}

describe('bucketed time series', () => {
  it('answers every series asked for, in order, with its metadata, also one without points', async () => {
    const res = await get(api, `/v1/timeseries?${qs({ series: '5,7,2', from: '2024-03-04T06:00:00Z', to: '2024-03-04T06:30:00Z', bucket: '30m', agg: 'max' })}`, admin);
    expect(res.status).toBe(200);
    const body = res.body as { from: string; bucket: string; series: { id: number; unit: string | null; assetId: string | null; name: string; points: Point[] }[] };
    expect(body).toMatchObject({ from: '2024-03-04T06:00:00.000Z', to: '2024-03-04T06:30:00.000Z', bucket: '30 minutes', tz: 'UTC', fill: 'none', quality: 'good' });
    expect(body.series.map((s) => s.id)).toEqual([5, 7, 2]);
    expect(body.series[0]).toMatchObject({ unit: 'CEL', assetId: 'hh-m1', name: 'M1/Temperature' });
    expect(body.series[0]!.points).toEqual([{ t: '2024-03-04T06:00:00.000Z', max: 22 }]);
  });

  it('aggregates Good samples per bucket (the Bad one left out)', async () => {
    const p = await points({ series: '5', from: '2024-03-04T06:00:00Z', to: '2024-03-04T08:00:00Z', bucket: '30m', agg: 'avg,min,max,first,last,count' });
    expect(p).toEqual([
      { t: '2024-03-04T06:00:00.000Z', avg: 21, min: 20, max: 22, first: 20, last: 22, count: 3 },
      { t: '2024-03-04T06:30:00.000Z', avg: 24.5, min: 24, max: 25, first: 24, last: 25, count: 2 },
      { t: '2024-03-04T07:00:00.000Z', avg: 26, min: 26, max: 26, first: 26, last: 26, count: 1 },
      { t: '2024-03-04T07:30:00.000Z', avg: 40, min: 40, max: 40, first: 40, last: 40, count: 1 },
    ]);
  });

  it('includes Bad samples with quality=any', async () => {
    const p = await points({ series: '5', from: '2024-03-04T06:30:00Z', to: '2024-03-04T07:00:00Z', bucket: '30m', agg: 'avg,count', quality: 'any' });
    expect(p).toEqual([{ t: '2024-03-04T06:30:00.000Z', avg: 24, count: 3 }]);
  });

  it('fills empty buckets with null, or carries the last observation forward', async () => {
    const base = { series: '5', from: '2024-03-04T07:00:00Z', to: '2024-03-04T08:00:00Z', bucket: '15m', agg: 'avg,count' };
    expect(await points(base)).toHaveLength(2);
    expect(await points({ ...base, fill: 'null' })).toEqual([
      { t: '2024-03-04T07:00:00.000Z', avg: 26, count: 1 },
      { t: '2024-03-04T07:15:00.000Z', avg: null, count: 0, filled: true },
      { t: '2024-03-04T07:30:00.000Z', avg: 40, count: 1 },
      { t: '2024-03-04T07:45:00.000Z', avg: null, count: 0, filled: true },
    ]);
    expect((await points({ ...base, fill: 'locf' })).map((x) => x['avg'])).toEqual([26, 26, 40, 40]);
  });

  it('aligns buckets to local days, 23 h long across the spring DST change', async () => {
    const berlinDay = await points({ series: '5', from: '2024-03-03T23:00:00Z', to: '2024-03-04T23:00:00Z', bucket: '1d', tz: 'Europe/Berlin', agg: 'count' });
    expect(berlinDay).toEqual([{ t: '2024-03-03T23:00:00.000Z', count: 7 }]);
    const dst = await points({ series: '5', from: '2024-03-29T23:00:00Z', to: '2024-03-31T22:00:00Z', bucket: '1d', tz: 'Europe/Berlin', agg: 'count', fill: 'null' });
    expect(dst.map((x) => x['t'])).toEqual(['2024-03-29T23:00:00.000Z', '2024-03-30T23:00:00.000Z']);
  });

  it('gives a counter increase across a reset, and the time integral of a value', async () => {
    const inc = await points({ series: '2', from: '2024-03-04T13:00:00Z', to: '2024-03-04T16:00:00Z', bucket: '1h', agg: 'increase' });
    expect(inc).toEqual([
      { t: '2024-03-04T13:00:00.000Z', increase: 0 },
      { t: '2024-03-04T15:00:00.000Z', increase: 200 },
    ]);
    // 06:00-06:15: 20 held 600 s, 21 held 300 s to the bucket end; 06:15-06:30: 21 held on 300 s, then 22 for 600 s
    const integral = await points({ series: '5', from: '2024-03-04T06:00:00Z', to: '2024-03-04T06:30:00Z', bucket: '15m', agg: 'integral' });
    expect(integral).toEqual([
      { t: '2024-03-04T06:00:00.000Z', integral: 20 * 600 + 21 * 300 },
      { t: '2024-03-04T06:15:00.000Z', integral: 21 * 300 + 22 * 600 },
    ]);
  });
});

describe('raw samples', () => {
  it('pages through every sample once, in time order', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const params: Record<string, string> = { series: '5', from: '2024-03-04T00:00:00Z', to: '2024-03-05T00:00:00Z', quality: 'any', limit: '3', ...(cursor ? { cursor } : {}) };
      const res = await get(api, `/v1/timeseries/raw?${qs(params)}`, admin);
      expect(res.status).toBe(200);
      seen.push(...(res.body['samples'] as { t: string }[]).map((s) => s.t));
      cursor = res.body['next'] as string | null;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(8);
    expect([...seen].sort()).toEqual(seen);
    expect(new Set(seen).size).toBe(8);
  });

  it('refuses a cursor it did not make', async () => {
    const res = await get(api, `/v1/timeseries/raw?${qs({ series: '5', from: '2024-03-04T00:00:00Z', to: '2024-03-05T00:00:00Z', cursor: 'eyJ0IjoiMSJ9' })}`, admin);
    expect(res.status).toBe(400);
  });
});

describe('assets, series, live values, completeness', () => {
  it('serves the asset tree', async () => {
    const res = await get(api, '/v1/assets?format=tree', admin);
    const roots = res.body['assets'] as { id: string; children: { id: string }[] }[];
    expect(roots.map((r) => r.id)).toEqual(['acme']);
    expect(roots[0]!.children.map((c) => c.id)).toEqual(['hh', 'muc']);
    const lines = await get(api, `/v1/assets?${qs({ path: 'acme/*/*-l1' })}`, admin);
    expect((lines.body['assets'] as { id: string }[]).map((a) => a.id)).toEqual(['muc-l1']);
  });

  it('finds series by path glob and text, with unit, source and quality statistics', async () => {
    const res = await get(api, `/v1/series?${qs({ path: 'acme/hh/**/Temp*', from: '2024-03-04T00:00:00Z', to: '2024-03-05T00:00:00Z' })}`, admin);
    expect(res.body['series']).toEqual([
      expect.objectContaining({ id: 5, unit: 'CEL', sourceId: 'plc-hh', assetId: 'hh-m1', quality: { good: 7, uncertain: 0, bad: 1, goodRatio: 7 / 8 } }),
    ]);
    const counts = await get(api, `/v1/series?${qs({ q: 'count', limit: '1' })}`, admin);
    expect((counts.body['series'] as { id: number }[]).map((s) => s.id)).toEqual([2]);
    const next = await get(api, `/v1/series?${qs({ q: 'count', after: String(counts.body['next']) })}`, admin);
    expect((next.body['series'] as { id: number }[]).map((s) => s.id)).toEqual([3]);
  });

  it('gives the live state of a line: machine state and latest values', async () => {
    const res = await get(api, `/v1/latest?${qs({ asset: 'hh-l1' })}`, admin);
    const assets = res.body['assets'] as { assetId: string; state: unknown; values: { seriesId: number; value: unknown; t: string }[] }[];
    expect(assets.map((a) => a.assetId)).toEqual(['hh-m1']);
    expect(assets[0]!.state).toEqual({ state: 'idle', reasonCode: 105, reason: 'no order scheduled', since: '2024-03-04T22:00:00.000Z', reasonSince: '2024-03-04T22:00:00.000Z' });
    expect(assets[0]!.values.find((v) => v.seriesId === 5)).toMatchObject({ value: 40, t: '2024-03-04T07:30:00.000Z', quality: 'good' });
    expect(assets[0]!.values.find((v) => v.seriesId === 1)).toMatchObject({ value: 'idle' });
  });

  it('reports covered and missing intervals per series', async () => {
    const res = await get(api, `/v1/completeness?${qs({ series: '1', from: '2024-03-04T00:00:00Z', to: '2024-03-05T00:00:00Z' })}`, admin);
    const [s] = res.body['series'] as { coveredS: number; missingS: number; intervals: { status: string; from: string; to: string }[] }[];
    expect(s!.missingS).toBe(3600);
    expect(s!.coveredS).toBe(13 * 3600 + 4 * 3600);
    expect(s!.intervals.map((i) => [i.status, i.from.slice(11, 16), i.to.slice(11, 16)])).toEqual([
      ['covered', '05:00', '18:00'],
      ['missing', '18:00', '19:00'],
      ['covered', '19:00', '23:00'],
    ]);
  });

  it('lists alerts newest first, scoped to the caller\'s sites, for the SOC', async () => {
    const all = await get(api, `/v1/alerts?${qs({ from: '2024-03-04T00:00:00Z', to: '2024-03-05T00:00:00Z', limit: '1' })}`, { key: KEYS.soc.key });
    expect((all.body['alerts'] as { findingUid: string }[]).map((a) => a.findingUid)).toEqual(['f-muc-1']);
    const page2 = await get(api, `/v1/alerts?${qs({ from: '2024-03-04T00:00:00Z', to: '2024-03-05T00:00:00Z', limit: '1', cursor: String(all.body['next']) })}`, { key: KEYS.soc.key });
    expect((page2.body['alerts'] as { findingUid: string; attackTechniques: string[] }[]).map((a) => [a.findingUid, a.attackTechniques])).toEqual([['f-hh-1', ['T0836', 'T0822']]]);
    expect(page2.body['next']).toBeNull();
    const hhOnly = await get(api, `/v1/alerts?${qs({ from: '2024-03-04T00:00:00Z', to: '2024-03-05T00:00:00Z' })}`, { token: token({ sub: 'soc-hh', role: 'soc', sites: ['hh'] }) });
    expect((hhOnly.body['alerts'] as { findingUid: string }[]).map((a) => a.findingUid)).toEqual(['f-hh-1']);
    const byTechnique = await get(api, `/v1/alerts?${qs({ from: '2024-03-04T00:00:00Z', to: '2024-03-05T00:00:00Z', technique: 'T0843' })}`, { key: KEYS.soc.key });
    expect((byTechnique.body['alerts'] as { findingUid: string }[]).map((a) => a.findingUid)).toEqual(['f-muc-1']);
    expect((await get(api, `/v1/alerts?${qs({ from: '2024-03-04T00:00:00Z', to: '2024-03-05T00:00:00Z' })}`, { key: KEYS.hhViewer.key })).status).toBe(403);
  });

  it('publishes an OpenAPI document and browsable docs without credentials', async () => {
    const doc = await fetch(`${api.url}/openapi.json`).then((r) => r.json() as Promise<{ paths: Record<string, unknown>; components: { securitySchemes: Record<string, unknown> } }>);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/assets', '/v1/series', '/v1/timeseries', '/v1/timeseries/raw', '/v1/latest', '/v1/kpi/oee', '/v1/kpi/downtime', '/v1/kpi/reliability', '/v1/kpi/energy', '/v1/completeness', '/v1/alerts']));
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['apiKey', 'bearer']);
    const html = await fetch(`${api.url}/docs`);
    expect(html.status).toBe(200);
    expect(await html.text()).toContain('swagger');
  });
});
