import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TelemetryRawV1 } from '@weir/contracts';
import { metricValue, removeTempDirs, tempDir, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { baseSettings, readTelemetry, startInProcess } from './helpers';

const T0 = Date.UTC(2026, 3, 1, 0, 0, 0);
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.weir-historian-test.c2lnbmF0dXJl';
const iso = (ms: number): string => new Date(ms).toISOString();

/** Recorded values per WebId: 1,500 values for one point (more than one page of maxCount 1,000), 40 for the other. */
function buildData(): Map<string, { name: string; values: Array<{ Timestamp: string; Value: number; Good: boolean; Questionable: boolean; Substituted: boolean }> }> {
  const series = (n: number, step: number, scale: number) => Array.from({ length: n }, (_, i) => ({ Timestamp: iso(T0 + (i + 1) * step), Value: Math.round((i + 1) * scale * 100) / 100, Good: true, Questionable: false, Substituted: false }));
  return new Map([
    ['P2Level', { name: 'Plant2.Level', values: series(1500, 2000, 0.5) }],
    ['P2Valve', { name: 'Plant2.Valve', values: series(40, 60_000, 2.5) }],
  ]);
}

describe('PI Web API with bearer-token auth (HTTP on loopback)', () => {
  const brokers = inject('kafkaBrokers');
  const data = buildData();
  /** The Authorization header of every request, in order. */
  const seen: Array<string | undefined> = [];
  let server: Server;
  let baseUrl: string;

  beforeAll(async () => {
    const send = (res: ServerResponse, status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', baseUrl);
      seen.push(req.headers.authorization);
      // As OAuth-protected servers do: an empty 401 that says why only in WWW-Authenticate.
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token", error_description="The access token is invalid"' });
        res.end();
        return;
      }
      const path = url.pathname.replace(/^\/piwebapi\//, '');
      if (path === 'dataservers') return send(res, 200, { Links: {}, Items: [{ WebId: 'F1DSp2', Name: 'PISRV02', IsConnected: true, Links: {} }] });
      if (path === 'dataservers/F1DSp2/points') return send(res, 200, { Links: {}, Items: [...data].map(([WebId, d]) => ({ WebId, Name: d.name, PointType: 'Float32', Links: {} })) });
      const recorded = (webId: string): unknown[] => {
        const start = Date.parse(url.searchParams.get('startTime')!);
        const end = Date.parse(url.searchParams.get('endTime')!);
        const max = Number(url.searchParams.get('maxCount') ?? 1000);
        return data
          .get(webId)!
          .values.filter((v) => Date.parse(v.Timestamp) >= start && Date.parse(v.Timestamp) <= end)
          .slice(0, max);
      };
      if (path === 'streamsets/recorded') return send(res, 200, { Links: {}, Items: url.searchParams.getAll('webId').map((id) => ({ WebId: id, Name: data.get(id)!.name, Links: {}, Items: recorded(id) })) });
      const m = /^streams\/([^/]+)\/recorded$/.exec(path);
      if (m && data.has(m[1]!)) return send(res, 200, { Links: {}, Items: recorded(m[1]!) });
      return send(res, 404, { Errors: [`no such resource: ${url.pathname}`] });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/piwebapi`;
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    removeTempDirs();
  });

  it('sends the token on every request and reads every value', async () => {
    const prefix = uniqueTopicPrefix();
    const first = seen.length;
    const c = await startInProcess({
      ...baseSettings(brokers, prefix, tempDir('state')),
      sources: [{ id: 'pi-bearer', type: 'piwebapi' as const, baseUrl, nameFilter: 'Plant2.*', auth: { type: 'bearer' as const, token: TOKEN }, maxCount: 1000, live: { enabled: false } }],
      jobs: [{ id: 'pi-bearer-backfill', source: 'pi-bearer', from: iso(T0), to: iso(T0 + 6 * 3_600_000) }],
    });
    const got: TelemetryRawV1[] = [];
    const reader = await readTelemetry(brokers, prefix, (m) => got.push(m));
    const expectedCount = [...data.values()].reduce((n, d) => n + d.values.length, 0);
    try {
      await waitFor(async () => ((await metricValue(c.metrics, 'weir_historian_job_progress_ratio', { job: 'pi-bearer-backfill' })) === 1 ? true : undefined), { timeoutMs: 120_000, what: 'the job to finish' });
      await c.connector.spool.flush();
      await waitFor(() => (got.length >= expectedCount ? true : undefined), { timeoutMs: 60_000, what: `${expectedCount} samples` });
    } finally {
      await reader.stop();
      await c.connector.stop();
    }
    expect(reader.invalid()).toBe(0);
    // Every request carried the token (none was refused), and more than one page was read.
    const mine = seen.slice(first);
    expect(mine.length).toBeGreaterThan(3);
    expect(mine.every((h) => h === `Bearer ${TOKEN}`)).toBe(true);
    for (const d of data.values()) {
      const series = got.filter((m) => m.nodeId === d.name).sort((a, b) => a.seq - b.seq);
      expect(series.map((m) => [m.sourceTime, m.value, m.status])).toEqual(d.values.map((v) => [v.Timestamp, v.Value, 0]));
    }
    expect(got.map((m) => m.seq).sort((a, b) => a - b)).toEqual(got.map((_, i) => i));
    expect(await metricValue(c.metrics, 'weir_historian_requests_total', { source: 'pi-bearer', outcome: 'error' })).toBe(0);
  });

  it('with a wrong token reports the refusal clearly (log, readiness, error count) and reads nothing', async () => {
    const c = await startInProcess({
      ...baseSettings(brokers, uniqueTopicPrefix(), tempDir('state')),
      sources: [{ id: 'pi-bad-token', type: 'piwebapi' as const, baseUrl, nameFilter: '*', auth: { type: 'bearer' as const, token: 'not-the-token' }, live: { pollInterval: 300 } }],
    });
    try {
      // The refusal repeats with backoff: wait for two, so the counting of retries is seen too.
      await waitFor(async () => ((await metricValue(c.metrics, 'weir_historian_requests_total', { source: 'pi-bad-token', outcome: 'error' })) >= 2 ? true : undefined), { timeoutMs: 60_000, what: 'two refused attempts counted' });
      const refused = c.logs.filter((l) => l['source'] === 'pi-bad-token' && l['code'] === 'HISTORIAN.PI_ERROR').map((l) => String(l['err']));
      expect(refused.length).toBeGreaterThan(0);
      expect(refused[0]).toContain('GET /piwebapi/dataservers answered 401: Unauthorized; the bearer token (auth.type bearer) was refused');
      expect(refused[0]).toContain('error_description="The access token is invalid"');
      // The token itself is never logged.
      expect(JSON.stringify(c.logs)).not.toContain('not-the-token');
      const h = c.connector.sources[0]!.health();
      expect(h.ok).toBe(false);
      expect(h.detail).toContain('HISTORIAN.PI_ERROR');
      expect(h.detail).toContain('bearer token');
      expect(await metricValue(c.metrics, 'weir_historian_samples_total', { source: 'pi-bad-token' })).toBe(0);
    } finally {
      await c.connector.stop();
    }
    expect(seen).toContain('Bearer not-the-token');
  });
});
