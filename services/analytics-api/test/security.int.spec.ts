import type { TestDatabase } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningAnalyticsApi } from '../src/index';
import { get, KEYS, qs, queryRows, scenarioDatabase, startTestApi, testSettings, token } from './helpers';

const FROM = '2024-03-04T00:00:00Z';
const TO = '2024-03-05T00:00:00Z';

let db: TestDatabase;
let api: RunningAnalyticsApi;

beforeAll(async () => {
  db = await scenarioDatabase(inject('databaseUrl'));
  // Rate limiting off here: the injection sweep sends hundreds of requests; the limit has its own server below.
  api = await startTestApi(testSettings(db.url, { rateLimit: { perMinute: 0, burst: 1 } }));
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

const oeePath = `/v1/kpi/oee?${qs({ from: FROM, to: TO })}`;

describe('authentication', () => {
  it('answers 401 without credentials, and says how to authenticate', async () => {
    const res = await get(api, oeePath);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(res.body).toEqual({ error: { code: 'AUTH.MISSING_CREDENTIALS', message: expect.stringContaining('Authorization: Bearer') } });
  });

  it('answers 401 for an unknown API key', async () => {
    const res = await get(api, oeePath, { key: 'not-a-key' });
    expect(res.status).toBe(401);
    expect((res.body['error'] as { code: string }).code).toBe('AUTH.UNKNOWN_API_KEY');
  });

  it.each([
    ['a wrong signature', () => token({ sub: 'u', role: 'viewer', sites: ['hh'] }, 'another-secret-that-is-long-enough-to-be-valid'), 'AUTH.INVALID_TOKEN'],
    ['an expired token', () => token({ sub: 'u', role: 'viewer', sites: ['hh'], exp: Math.floor(Date.now() / 1000) - 3600 }), 'AUTH.TOKEN_EXPIRED'],
    ['a token not valid yet', () => token({ sub: 'u', role: 'viewer', sites: ['hh'], nbf: Math.floor(Date.now() / 1000) + 3600 }), 'AUTH.TOKEN_NOT_YET_VALID'],
    ['alg none', () => `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'u', role: 'admin', sites: ['*'], exp: 9999999999 })).toString('base64url')}.`, 'AUTH.INVALID_TOKEN'],
    ['an unknown role', () => token({ sub: 'u', role: 'root', sites: ['hh'] }), 'AUTH.INVALID_TOKEN'],
    ['no sites', () => token({ sub: 'u', role: 'viewer' }), 'AUTH.INVALID_TOKEN'],
    ['garbage', () => 'a.b', 'AUTH.INVALID_TOKEN'],
  ])('answers 401 for %s', async (_what, make, code) => {
    const res = await get(api, oeePath, { token: make() });
    expect(res.status).toBe(401);
    expect((res.body['error'] as { code: string }).code).toBe(code);
  });

  it('accepts a valid token and scopes it to its sites', async () => {
    const res = await get(api, `/v1/kpi/oee?${qs({ from: FROM, to: TO, by: 'site' })}`, { token: token({ sub: 'alice', role: 'viewer', sites: ['hh'] }) });
    expect(res.status).toBe(200);
    expect((res.body['rows'] as { key: string }[]).map((r) => r.key)).toEqual(['hh']);
  });
});

describe('authorisation', () => {
  const siteA = token({ sub: 'alice', role: 'analyst', sites: ['hh'] });

  it.each([
    ['a KPI of a site-B asset', `/v1/kpi/oee?${qs({ from: FROM, to: TO, asset: 'muc-l1' })}`],
    ['downtime of site B', `/v1/kpi/downtime?${qs({ from: FROM, to: TO, asset: 'muc' })}`],
    ['energy of site B', `/v1/kpi/energy?${qs({ from: FROM, to: TO, asset: 'muc-m1' })}`],
    ['a site-B series', `/v1/timeseries?${qs({ series: '7', from: FROM, to: TO, bucket: '1h' })}`],
    ['a mix of site A and B series', `/v1/timeseries/raw?${qs({ series: '5,7', from: FROM, to: TO })}`],
    ['latest values of site B', `/v1/latest?${qs({ asset: 'muc' })}`],
    ['completeness of site B', `/v1/completeness?${qs({ from: FROM, to: TO, asset: 'muc-m1' })}`],
    ['series of site B', `/v1/series?${qs({ asset: 'muc-l1' })}`],
  ])('answers 403 to a site-A token reading %s', async (_what, path) => {
    const res = await get(api, path, { token: siteA });
    expect(res.status).toBe(403);
    expect((res.body['error'] as { code: string }).code).toBe('ANALYTICS.SITE_FORBIDDEN');
  });

  it('answers 403 to a site-A SOC token reading alerts about a site-B asset', async () => {
    const res = await get(api, `/v1/alerts?${qs({ from: FROM, to: TO, asset: 'muc-m1' })}`, { token: token({ sub: 'soc-hh', role: 'soc', sites: ['hh'] }) });
    expect(res.status).toBe(403);
    expect((res.body['error'] as { code: string }).code).toBe('ANALYTICS.SITE_FORBIDDEN');
  });

  it('leaves site B out of lists a site-A caller reads', async () => {
    const assets = await get(api, '/v1/assets', { token: siteA });
    expect((assets.body['assets'] as { siteId: string }[]).every((a) => a.siteId === 'hh')).toBe(true);
    const series = await get(api, '/v1/series', { token: siteA });
    expect((series.body['series'] as { id: number }[]).map((s) => s.id)).toEqual([1, 2, 3, 4, 5]);
    const latest = await get(api, '/v1/latest', { token: siteA });
    expect((latest.body['assets'] as { assetId: string }[]).map((a) => a.assetId)).toEqual(['hh-m1']);
  });

  it('enforces roles: a viewer may not read raw samples, the SOC may not read KPIs', async () => {
    const raw = await get(api, `/v1/timeseries/raw?${qs({ series: '5', from: FROM, to: TO })}`, { key: KEYS.hhViewer.key });
    expect(raw.status).toBe(403);
    expect((raw.body['error'] as { code: string }).code).toBe('AUTH.ROLE_FORBIDDEN');
    const kpi = await get(api, oeePath, { key: KEYS.soc.key });
    expect(kpi.status).toBe(403);
    expect((await get(api, `/v1/timeseries/raw?${qs({ series: '5', from: FROM, to: TO })}`, { key: KEYS.hhAnalyst.key })).status).toBe(200);
  });
});

describe('input validation and injection', () => {
  it('answers 400 naming each bad parameter', async () => {
    const res = await get(api, `/v1/timeseries?${qs({ series: '5', from: 'yesterday', to: FROM, bucket: '7 weeks', agg: 'avg,median', extra: '1' })}`, { key: KEYS.admin.key });
    expect(res.status).toBe(400);
    const issues = (res.body['error'] as { issues: { param: string; problem: string }[] }).issues;
    expect(issues.map((i) => i.param).sort()).toEqual(['agg', 'bucket', 'extra', 'from']);
    expect(issues.find((i) => i.param === 'agg')!.problem).toContain('median');
  });

  it('refuses a query that would return more points than the limit', async () => {
    const res = await get(api, `/v1/timeseries?${qs({ series: '1,2,3,4,5', from: '2024-01-01T00:00:00Z', to: '2024-12-01T00:00:00Z', bucket: '1m' })}`, { key: KEYS.admin.key });
    expect(res.status).toBe(400);
    expect((res.body['error'] as { code: string }).code).toBe('ANALYTICS.TOO_MANY_POINTS');
  });

  const PAYLOADS = ["' OR '1'='1", '1; DROP TABLE series; --', "hh') OR site_id <> ('x", "muc' --", '1 UNION SELECT * FROM series', '%', '**', '$1', '\\', '\u0000'];
  const ENDPOINTS: [string, Record<string, string>][] = [
    ['/v1/assets', { path: 'acme/**', format: 'flat', limit: '10' }],
    ['/v1/series', { path: 'acme/**', q: 'Temp', asset: 'hh', from: FROM, to: TO, after: '0', limit: '10' }],
    ['/v1/timeseries', { series: '5', from: FROM, to: TO, bucket: '1h', agg: 'avg', fill: 'null', quality: 'good', tz: 'UTC' }],
    ['/v1/timeseries/raw', { series: '5', from: FROM, to: TO, quality: 'good', limit: '10' }],
    ['/v1/latest', { asset: 'hh', limit: '10' }],
    ['/v1/kpi/oee', { from: FROM, to: TO, by: 'shift', asset: 'hh', tz: 'UTC' }],
    ['/v1/kpi/reliability', { from: FROM, to: TO, by: 'machine', asset: 'hh', tz: 'UTC' }],
    ['/v1/kpi/downtime', { from: FROM, to: TO, by: 'reason', state: 'all', asset: 'hh', tz: 'UTC' }],
    ['/v1/kpi/energy', { from: FROM, to: TO, asset: 'hh', tz: 'UTC' }],
    ['/v1/completeness', { from: FROM, to: TO, asset: 'hh' }],
    ['/v1/alerts', { from: FROM, to: TO, severity: '1', technique: 'T0836', asset: 'hh-m1', limit: '10' }],
  ];

  it('rejects or ignores an injection attempt in every parameter of every endpoint', async () => {
    // An admin of site hh may call every endpoint; everything of site muc must stay out of reach.
    const caller = { token: token({ sub: 'injector', role: 'admin', sites: ['hh'] }) };
    const outcomes = new Map<number, number>();
    for (const [path, valid] of ENDPOINTS) {
      expect((await get(api, `${path}?${qs(valid)}`, caller)).status, `${path} with valid parameters`).toBe(200);
      for (const param of [...Object.keys(valid), 'cursor']) {
        if (param === 'cursor' && path !== '/v1/timeseries/raw' && path !== '/v1/alerts') continue;
        for (const payload of PAYLOADS) {
          const res = await get(api, `${path}?${qs({ ...valid, [param]: payload })}`, caller);
          const where = `${path} ${param}=${JSON.stringify(payload)}: ${JSON.stringify(res.body)}`;
          outcomes.set(res.status, (outcomes.get(res.status) ?? 0) + 1);
          // Refused (400), or an id that is not there (404), or inert text that matches nothing of another site.
          expect([200, 400, 404], where).toContain(res.status);
          if (res.status === 200) expect(JSON.stringify(res.body), where).not.toMatch(/muc/);
          if (res.status === 400) expect((res.body['error'] as { issues?: { param: string }[] }).issues?.map((i) => i.param), where).toContain(param);
        }
      }
    }
    expect(outcomes.get(400)).toBeGreaterThan(0);
    const [count] = await queryRows<{ n: string }>(db.url, 'SELECT count(*) AS n FROM series');
    expect(Number(count!.n)).toBe(7);
  });
});

describe('rate limiting', () => {
  it('answers 429 with Retry-After once a caller exceeds its burst, and other callers are unaffected', async () => {
    const limited = await startTestApi(testSettings(db.url, { rateLimit: { perMinute: 1, burst: 3 } }));
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 4; i++) {
        const res = await get(limited, '/v1/assets', { key: KEYS.hhViewer.key });
        statuses.push(res.status);
        if (res.status === 429) {
          retryAfter = res.headers.get('retry-after');
          expect((res.body['error'] as { code: string }).code).toBe('RATE_LIMITED');
        }
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      expect((await get(limited, '/v1/assets', { key: KEYS.mucViewer.key })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
