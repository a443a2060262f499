import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TelemetryRawV1 } from '@weir/contracts';
import { metricValue, removeTempDirs, tempDir, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { baseSettings, readTelemetry, startInProcess } from './helpers';

const T0 = Date.UTC(2026, 2, 1, 0, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

type PiValue = Record<string, unknown> & { Timestamp: string };

/** Recorded values the fake PI serves, per WebId, oldest first. */
function buildData(): Map<string, { name: string; values: PiValue[] }> {
  const flow: PiValue[] = [];
  // 2,500 values: more than maxCount (1,000), so the stream is read in pages; two values share one timestamp at a page edge.
  for (let i = 1; i <= 2500; i++) flow.push({ Timestamp: iso(T0 + i * 1000), Value: Math.round(i * 1.25 * 100) / 100, UnitsAbbreviation: 'm3/h', Good: true, Questionable: false, Substituted: false, Annotated: false });
  flow.splice(1000, 0, { Timestamp: iso(T0 + 1000 * 1000), Value: -1, UnitsAbbreviation: 'm3/h', Good: true, Questionable: false, Substituted: false, Annotated: false });
  const state: PiValue[] = [
    { Timestamp: '2026-03-01T00:00:05.1234567Z', Value: { Name: 'Running', Value: 1, IsSystem: false }, Good: true, Questionable: false, Substituted: false, Annotated: false },
    { Timestamp: iso(T0 + 60_000), Value: { Name: 'Stopped', Value: 0, IsSystem: false }, Good: true, Questionable: false, Substituted: false, Annotated: false },
    { Timestamp: iso(T0 + 120_000), Value: { Name: 'I/O Timeout', Value: 246, IsSystem: true }, Good: false, Questionable: false, Substituted: false, Annotated: false },
  ];
  const temp: PiValue[] = [
    { Timestamp: iso(T0 + 10_000), Value: 71.5, Good: true, Questionable: true, Substituted: false, Annotated: false },
    { Timestamp: iso(T0 + 20_000), Value: 72.25, Good: true, Questionable: false, Substituted: true, Annotated: true },
    { Timestamp: iso(T0 + 30_000), Value: [1, 2], Good: true, Questionable: false, Substituted: false, Annotated: false },
    { Timestamp: iso(T0 + 40_000), Value: 73, Good: true, Questionable: false, Substituted: false, Annotated: false, Errors: ['Value could not be read'] },
    { Timestamp: iso(T0 + 50_000), Value: 74, Good: true, Questionable: false, Substituted: false, Annotated: false },
  ];
  return new Map([
    ['P1AbcFlow', { name: 'Plant1.Flow', values: flow }],
    ['P1AbcState', { name: 'Plant1.State', values: state }],
    ['P1AbcTemp', { name: 'Plant1.Temp', values: temp }],
    ['P1AbcOther', { name: 'Other.Tag', values: [] }],
  ]);
}

describe('PI Web API source (HTTPS on loopback, PI JSON shapes)', () => {
  const brokers = inject('kafkaBrokers');
  const data = buildData();
  const requests: string[] = [];
  let server: Server;
  let baseUrl: string;
  let caFile: string;
  let failNextPage = true;

  beforeAll(async () => {
    const dir = tempDir('tls');
    caFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', caFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const auth = `Basic ${Buffer.from('piuser:pi-secret').toString('base64')}`;
    const send = (res: ServerResponse, status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    const recorded = (webId: string, url: URL): PiValue[] => {
      const start = Date.parse(url.searchParams.get('startTime')!);
      const end = Date.parse(url.searchParams.get('endTime')!);
      const max = Number(url.searchParams.get('maxCount') ?? 1000);
      return data
        .get(webId)!
        .values.filter((v) => Date.parse(v.Timestamp) >= start && Date.parse(v.Timestamp) <= end)
        .slice(0, max);
    };
    server = createServer({ key: readFileSync(keyFile), cert: readFileSync(caFile) }, (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', baseUrl);
      requests.push(`${url.pathname}${url.search}`);
      if (req.headers.authorization !== auth) return send(res, 401, { Errors: ['Authorization has been denied for this request.'] });
      const path = url.pathname.replace(/^\/piwebapi\//, '');
      if (path === 'dataservers') return send(res, 200, { Links: {}, Items: [{ WebId: 'F1DSabc', Id: 'd1', Name: 'PISRV01', Path: '\\\\PISRV01', IsConnected: true, ServerVersion: '3.4.440.477', Links: {} }] });
      if (path === 'dataservers/F1DSabc/points') {
        // Pages of two points with Links.Next, whatever maxCount says: the client must follow the link.
        const filter = new RegExp(`^${(url.searchParams.get('nameFilter') ?? '*').replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`);
        const all = [...data].filter(([, d]) => filter.test(d.name)).map(([WebId, d]) => ({ WebId, Id: 1, Name: d.name, Path: `\\\\PISRV01\\${d.name}`, PointClass: 'classic', PointType: d.name.endsWith('State') ? 'Digital' : 'Float32', Future: false, Links: {} }));
        const start = Number(url.searchParams.get('startIndex') ?? 0);
        const items = all.slice(start, start + 2);
        const next = start + 2 < all.length ? new URL(`/piwebapi/dataservers/F1DSabc/points?nameFilter=${encodeURIComponent(url.searchParams.get('nameFilter') ?? '*')}&startIndex=${start + 2}&maxCount=2`, baseUrl).toString() : undefined;
        return send(res, 200, { Links: next ? { Next: next } : {}, Items: items });
      }
      if (path === 'streamsets/recorded') {
        const ids = url.searchParams.getAll('webId');
        if (ids.some((id) => !data.has(id))) return send(res, 400, { Errors: ['Unknown WebId'] });
        return send(res, 200, { Links: {}, Items: ids.map((id) => ({ WebId: id, Name: data.get(id)!.name, Path: `\\\\PISRV01\\${data.get(id)!.name}`, Links: {}, Items: recorded(id, url), UnitsAbbreviation: '' })) });
      }
      const m = /^streams\/([^/]+)\/recorded$/.exec(path);
      if (m && data.has(m[1]!)) {
        if (failNextPage) {
          failNextPage = false;
          return send(res, 503, { Errors: ['The PI Data Archive is busy; try again later.'] });
        }
        return send(res, 200, { Links: {}, Items: recorded(m[1]!, url), UnitsAbbreviation: 'm3/h' });
      }
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html><body><h1>Not Found</h1></body></html>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/piwebapi`;
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    removeTempDirs();
  });

  it('discovers points, pages recorded values, maps quality and digital states, and skips bad values with the request named', async () => {
    const prefix = uniqueTopicPrefix();
    const from = T0;
    const to = T0 + 3 * 3_600_000;
    const c = await startInProcess({
      ...baseSettings(brokers, prefix, tempDir('state')),
      sources: [
        {
          id: 'pi-1',
          type: 'piwebapi' as const,
          baseUrl,
          dataServer: 'PISRV01',
          nameFilter: 'Plant1.*',
          auth: { type: 'basic' as const, username: 'piuser', password: 'pi-secret' },
          tls: { ca: caFile },
          maxCount: 1000,
          streamSetSize: 2,
          window: '1h',
          live: { enabled: false },
        },
      ],
      jobs: [{ id: 'pi-backfill', source: 'pi-1', from: new Date(from).toISOString(), to: new Date(to).toISOString() }],
    });
    const got: TelemetryRawV1[] = [];
    const reader = await readTelemetry(brokers, prefix, (m) => got.push(m));
    try {
      await waitFor(async () => ((await metricValue(c.metrics, 'weir_historian_job_progress_ratio', { job: 'pi-backfill' })) === 1 ? true : undefined), { timeoutMs: 120_000, what: 'the PI job to finish' });
      await c.connector.spool.flush();
      const expectedCount = 2501 + 3 + 3;
      await waitFor(() => (got.length >= expectedCount ? true : undefined), { timeoutMs: 60_000, what: `${expectedCount} samples` });
    } finally {
      await reader.stop();
      await c.connector.stop();
    }
    expect(reader.invalid()).toBe(0);
    const series = (name: string): TelemetryRawV1[] => got.filter((m) => m.nodeId === name).sort((a, b) => a.seq - b.seq);

    // Flow: every served value exactly once, in order, across pages and the retried 503; both values at the shared timestamp.
    const flow = series('Plant1.Flow');
    expect(flow.map((m) => [m.sourceTime, m.value])).toEqual(data.get('P1AbcFlow')!.values.map((v) => [v.Timestamp, v.Value]));
    expect(flow.every((m) => m.status === 0 && m.dataType === 'Double' && m.origin === 'historian' && m.sourceId === 'pi-1')).toBe(true);

    expect(series('Plant1.State').map((m) => [m.sourceTime, m.value, m.dataType, m.status])).toEqual([
      ['2026-03-01T00:00:05.1234567Z', 'Running', 'DigitalState', 0],
      [iso(T0 + 60_000), 'Stopped', 'DigitalState', 0],
      [iso(T0 + 120_000), 'I/O Timeout', 'DigitalState', 0x80310000],
    ]);
    expect(series('Plant1.Temp').map((m) => [m.sourceTime, m.value, m.status])).toEqual([
      [iso(T0 + 10_000), 71.5, 0x40000000],
      [iso(T0 + 20_000), 72.25, 0x40910000],
      [iso(T0 + 50_000), 74, 0],
    ]);
    // Not matched by the name filter.
    expect(series('Other.Tag')).toEqual([]);
    // Sequence numbers: 0..n-1 without holes.
    expect(got.map((m) => m.seq).sort((a, b) => a - b)).toEqual(got.map((_, i) => i));

    // The two bad values were counted and reported with the point and the request.
    expect(await metricValue(c.metrics, 'weir_historian_bad_input_total', { code: 'HISTORIAN.BAD_VALUE' })).toBe(2);
    const bad = c.logs.filter((l) => l['code'] === 'HISTORIAN.BAD_VALUE');
    expect(bad.map((l) => l['point'])).toEqual(['Plant1.Temp', 'Plant1.Temp']);
    expect(bad.every((l) => typeof l['request'] === 'string' && (l['request'] as string).includes('recorded'))).toBe(true);
    expect(bad.map((l) => l['problem'])).toEqual(['Value [1,2] is of a type a PI point cannot have', 'value with errors: Value could not be read']);
    // The 503 was reported and retried.
    expect(c.logs.some((l) => typeof l['err'] === 'string' && (l['err'] as string).includes('answered 503: The PI Data Archive is busy'))).toBe(true);
    // Points were discovered through Links.Next (again after the 503: a failed call re-discovers); recorded values through stream sets and per-stream pages.
    expect(requests.some((r) => r.includes('/points') && r.includes('startIndex=2'))).toBe(true);
    expect(requests.some((r) => r.startsWith('/piwebapi/streamsets/recorded?webId='))).toBe(true);
    expect(requests.some((r) => /^\/piwebapi\/streams\/P1AbcFlow\/recorded\?/.test(r))).toBe(true);
  });

  it('names the problem when the credentials are refused', async () => {
    const c = await startInProcess({
      ...baseSettings(brokers, uniqueTopicPrefix(), tempDir('state')),
      sources: [{ id: 'pi-bad', type: 'piwebapi' as const, baseUrl, nameFilter: '*', auth: { type: 'basic' as const, username: 'piuser', password: 'wrong' }, tls: { ca: caFile }, live: { pollInterval: 500 } }],
    });
    try {
      await waitFor(() => (c.logs.some((l) => typeof l['err'] === 'string' && (l['err'] as string).includes('answered 401: Authorization has been denied')) ? true : undefined), { timeoutMs: 30_000, what: 'the 401 to be reported' });
      const h = c.connector.sources[0]!.health();
      expect(h.ok).toBe(false);
      expect(h.detail).toContain('HISTORIAN.PI_ERROR');
    } finally {
      await c.connector.stop();
    }
  });
});
