import { erpAssetsV1, erpWorkOrdersV1, itSecurityEventsV1, otEventsV1, telemetryEnrichedV1, type AlertV1, type ErpAssetV1 } from '@weir/contracts';
import type { BatchingProducer } from '@weir/kafka';
import { uniqueTopicPrefix, waitFor, type TestDatabase } from '@weir/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { huntSectionSchema } from '../src/hunt/hunt.config';
import type { RunningAnalyticsApi } from '../src/index';
import type { CorrelatorApplication } from '../../correlator/src/correlator.application';
import { ASSET_MAPPING, readAlerts, startCorrelator, testKafka, testSettings as correlatorSettings } from '../../correlator/test/fixtures';
import { scriptedDay } from '../../correlator/test/scenario';
import { startSink, testSettings as sinkSettings, type RunningSink } from '../../timescale-sink/test/helpers';
import { get, KEYS, qs, queryRows, scenarioDatabase, startTestApi, testSettings, token } from './helpers';

// The correlator's attack day (services/correlator/test/scenario.ts: nine incidents) goes through the real path:
// Kafka -> correlator (live alerts on sec.alerts.v1) and Kafka -> timescale-sink (events, telemetry, work orders,
// assets and the live alerts into TimescaleDB). The hunt then replays the stored events through the API.

const DAY = '2026-11-24';
// The first-seen rule learns for 7 days from the first session it sees (eight days before the attack day).
const FROM = '2026-11-15T00:00:00Z';
const TO = '2026-11-25T00:00:00Z';

let db: TestDatabase;
let api: RunningAnalyticsApi;
let sink: RunningSink | undefined;
let correlator: CorrelatorApplication | undefined;
let producer: BatchingProducer | undefined;
let liveAlerts: AlertV1[] = [];
const dirs: string[] = [];
const soc = { key: KEYS.soc.key };

const asset = (id: string, parentId: string | null, level: ErpAssetV1['level'], path: string, limits?: ErpAssetV1['limits']): ErpAssetV1 => ({
  id,
  parentId,
  level,
  name: id,
  path,
  validFrom: '2026-01-01T00:00:00Z',
  changedAt: '2026-01-01T00:00:00Z',
  attributes: {},
  ...(limits ? { limits } : {}),
});
const ASSETS: ErpAssetV1[] = [
  asset('acme', null, 'enterprise', 'acme'),
  asset('hh', 'acme', 'site', 'acme/hh'),
  asset('line1', 'hh', 'line', 'acme/hh/line1'),
  asset('filler1', 'line1', 'machine', 'acme/hh/line1/filler1', { temperature: { low: 2, high: 8, unit: 'CEL' } }),
  asset('capper1', 'line1', 'machine', 'acme/hh/line1/capper1'),
  asset('press1', 'line1', 'machine', 'acme/hh/line1/press1'),
];

async function post(path: string, body: unknown, auth: { key?: string; token?: string } = soc): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (auth.key !== undefined) headers['X-API-Key'] = auth.key;
  if (auth.token !== undefined) headers['Authorization'] = `Bearer ${auth.token}`;
  const res = await fetch(`${api.url}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  try {
    return { status: res.status, headers: res.headers, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return { status: res.status, headers: res.headers, body: { text } };
  }
}

async function del(path: string, auth: { key?: string; token?: string } = soc): Promise<number> {
  const headers: Record<string, string> = {};
  if (auth.key !== undefined) headers['X-API-Key'] = auth.key;
  if (auth.token !== undefined) headers['Authorization'] = `Bearer ${auth.token}`;
  const res = await fetch(`${api.url}${path}`, { method: 'DELETE', headers });
  await res.arrayBuffer();
  return res.status;
}

const count = async (sql: string): Promise<number> => Number((await queryRows<{ n: string }>(db.url, sql))[0]!.n);

beforeAll(async () => {
  const brokers = inject('kafkaBrokers');
  db = await scenarioDatabase(inject('databaseUrl'), { scenario: false });
  const prefix = uniqueTopicPrefix('hunt');
  const stateDir = mkdtempSync(join(tmpdir(), 'hunt-correlator-'));
  dirs.push(stateDir);
  const day = scriptedDay(DAY, true);
  const kafka = await testKafka(brokers, prefix);
  producer = kafka.producer;
  sink = await startSink(sinkSettings({ brokers, databaseUrl: db.url, topicPrefix: prefix, sink: { groupId: `${prefix}sink` } }));
  correlator = await startCorrelator(correlatorSettings(brokers, prefix, stateDir));
  await producer.sendMany(erpAssetsV1, ASSETS);
  // Work orders first: the live absence rules judge an OT change by the work orders consumed before it.
  await producer.sendMany(erpWorkOrdersV1, day.workOrders);
  await waitFor(() => (correlator!.handled()['work-order'] >= day.workOrders.length ? true : undefined), { what: 'work orders consumed' });
  await producer.sendMany(otEventsV1, day.ot);
  await producer.sendMany(itSecurityEventsV1, day.it);
  await producer.sendMany(telemetryEnrichedV1, day.telemetry);
  await waitFor(
    () => {
      const h = correlator!.handled();
      return h.ot >= day.ot.length && h.it >= day.it.length && h.telemetry >= day.telemetry.length ? true : undefined;
    },
    { timeoutMs: 90_000, what: 'the correlator to handle every input' },
  );
  liveAlerts = await readAlerts(kafka.kafka, prefix);
  await waitFor(
    async () => {
      const stored = await queryRows<{ ot: string; it: string; tel: string; alerts: string; wo: string; assets: string }>(
        db.url,
        `SELECT (SELECT count(*) FROM ot_events) AS ot, (SELECT count(*) FROM security_events) AS it, (SELECT count(*) FROM telemetry) AS tel,
                (SELECT count(*) FROM alerts) AS alerts, (SELECT count(*) FROM work_orders) AS wo, (SELECT count(*) FROM assets) AS assets`,
      );
      const s = stored[0]!;
      return Number(s.ot) === day.ot.length && Number(s.it) === day.it.length && Number(s.tel) === day.telemetry.length && Number(s.alerts) === liveAlerts.length && Number(s.wo) === day.workOrders.length && Number(s.assets) === ASSETS.length
        ? true
        : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 250, what: 'the sink to store the day and the live alerts' },
  );
  api = await startTestApi({ ...testSettings(db.url, { rateLimit: { perMinute: 0, burst: 1 } }), hunt: huntSectionSchema.parse({ assetMapping: ASSET_MAPPING }) });
}, 300_000);

afterAll(async () => {
  await api?.close();
  await producer?.close();
  await correlator?.stop();
  await sink?.stop();
  await db?.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Finding {
  t: string;
  findingUid: string;
  activityId: number;
  severityId: number;
  title: string;
  analytic: { uid: string };
  attackTechniques: string[];
  resourceUids: string[];
  firstSeen: string;
  relatedEvents: { uid: string; time: string }[];
  evidence: Record<string, unknown>;
}

/** What must agree between a live alert and a hunt finding: incident, activity, time, rule, techniques, assets, events, grouping. */
const liveKey = (a: AlertV1): string =>
  JSON.stringify([
    a.finding_info.uid,
    a.activity_id,
    a.time,
    a.severity_id,
    a.finding_info.analytic?.uid,
    a.finding_info.attacks.map((x) => x.technique.uid),
    a.resources.map((r) => r.uid),
    a.finding_info.first_seen_time,
    a.finding_info.related_events.map((e) => e.uid),
    Object.entries(a.evidences?.[0] ?? {}).filter(([k]) => k.startsWith('group.')),
  ]);
const huntKey = (f: Finding): string =>
  JSON.stringify([f.findingUid, f.activityId, f.t, f.severityId, f.analytic.uid, f.attackTechniques, f.resourceUids, f.firstSeen, f.relatedEvents.map((e) => e.uid), Object.entries(f.evidence).filter(([k]) => k.startsWith('group.'))]);

describe('retro-hunt over the stored scenario', () => {
  it('the live run raised the nine incidents and the sink stored them', async () => {
    expect(liveAlerts.filter((a) => a.activity_id === 1)).toHaveLength(9);
    expect(await count(`SELECT count(DISTINCT finding_uid) AS n FROM alerts`)).toBe(9);
  });

  it('returns the same alerts as the live run: incidents, updates, rules, techniques, assets, times, related events and group-by values', async () => {
    const res = await post('/v1/hunts', { from: FROM, to: TO, rules: ['*'] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const hunt = res.body['hunt'] as { complete: boolean; inputs: string[]; eventsRead: Record<string, number>; workOrders: number };
    expect(hunt.complete).toBe(true);
    expect(hunt.inputs).toEqual(['it', 'ot', 'telemetry']);
    const day = scriptedDay(DAY, true);
    // The hunt reads only samples of series with limits: the one temperature series, every sample of the day.
    expect(hunt.eventsRead).toEqual({ ot: day.ot.length, it: day.it.length, telemetry: day.telemetry.length });
    expect(hunt.workOrders).toBe(1);
    const findings = res.body['findings'] as Finding[];
    const stored = (await queryRows<{ finding: AlertV1 }>(db.url, `SELECT finding FROM alerts ORDER BY time, finding_uid, activity_id`)).map((r) => r.finding);
    expect(findings.map(huntKey).sort()).toEqual(stored.map(liveKey).sort());
    expect(findings.map(huntKey).sort()).toEqual(liveAlerts.map(liveKey).sort());
    expect(findings.filter((f) => f.activityId === 1)).toHaveLength(9);
  });

  it('the alerts endpoint lists the live alerts to the SOC role', async () => {
    const res = await get(api, `/v1/alerts?${qs({ from: FROM, to: TO, limit: '1000' })}`, soc);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const listed = res.body['alerts'] as { findingUid: string; activityId: number; t: string }[];
    expect(listed.map((a) => `${a.findingUid}/${a.activityId}/${a.t}`).sort()).toEqual(liveAlerts.map((a) => `${a.finding_info.uid}/${a.activity_id}/${new Date(a.time).toISOString().replace('Z', '000Z')}`).sort());
  });

  it('runs one built-in correlation with its building blocks only', async () => {
    const res = await post('/v1/hunts', { from: `${DAY}T00:00:00Z`, to: TO, rules: ['weir-ics-remote-access-then-ot-change-by-address'] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const rules = (res.body['hunt'] as { rules: { id: string; alerting: boolean }[] }).rules;
    expect(rules.filter((r) => r.alerting).map((r) => r.id)).toEqual(['weir-ics-remote-access-then-ot-change-by-address']);
    expect(rules.length).toBeGreaterThan(1);
    expect((res.body['hunt'] as { inputs: string[] }).inputs).toEqual(['it', 'ot']);
    const findings = res.body['findings'] as Finding[];
    expect(findings.map((f) => [f.analytic.uid, f.t, f.resourceUids])).toEqual([['weir-ics-remote-access-then-ot-change-by-address', `${DAY}T15:10:00.000Z`, ['capper1']]]);
    expect(findings[0]!.relatedEvents.map((e) => e.uid)[0]).toBe(`it.security-events.v1:${DAY}-attack-vpn`);
  });

  it('tries a new Sigma detection and a correlation over a built-in building block before they go live', async () => {
    const sigma = [
      'title: Anonymous OPC UA session',
      'id: test-anonymous-opcua-session',
      'logsource: { product: weir, service: ot-events }',
      'detection:',
      '  selection:',
      '    event.category: ot_session',
      '    user.name: anonymous',
      '  condition: selection',
      'level: high',
      'tags: [attack.t0859]',
      '---',
      'title: Many OT changes by one user within an hour',
      'id: test-many-ot-changes',
      'correlation:',
      '  type: event_count',
      '  rules: [ot_change]',
      '  group-by: [user.name]',
      '  timespan: 1h',
      '  condition: { gte: 4 }',
      'level: medium',
      'tags: [attack.t0836]',
    ].join('\n');
    const res = await post('/v1/hunts', { from: `${DAY}T00:00:00Z`, to: TO, sigma });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const rules = (res.body['hunt'] as { rules: { id: string; origin: string }[] }).rules;
    expect(rules.filter((r) => r.origin === 'request').map((r) => r.id).sort()).toEqual(['test-anonymous-opcua-session', 'test-many-ot-changes']);
    const findings = (res.body['findings'] as Finding[]).filter((f) => f.activityId === 1);
    const anonymous = findings.filter((f) => f.analytic.uid === 'test-anonymous-opcua-session');
    expect(anonymous.map((f) => [f.t, f.attackTechniques, f.severityId])).toEqual([[`${DAY}T16:00:00.000Z`, ['T0859'], 4]]);
    // operator1 writes the speed setpoint four times an hour from 08:01 to 13:46: an incident per hour-long window's worth.
    const many = findings.filter((f) => f.analytic.uid === 'test-many-ot-changes');
    expect(many.length).toBeGreaterThan(0);
    expect(new Set(many.map((f) => String(f.evidence['group.user.name'])))).toEqual(new Set(['operator1']));
  });

  it('answers 400 with the line and the parser\'s reason for a malformed rule', async () => {
    const sigma = ['title: Broken', 'id: test-broken', 'logsource: { product: weir }', 'detection:', '  selection:', '    event.category|nosuchmodifier: ot_session', '  condition: selection', 'level: high'].join('\n');
    const res = await post('/v1/hunts', { from: `${DAY}T00:00:00Z`, to: TO, sigma });
    expect(res.status).toBe(400);
    const error = res.body['error'] as { code: string; message: string; issues: { param: string; line: number; problem: string }[] };
    expect(error.code).toBe('REQUEST.INVALID');
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]!.param).toBe('sigma');
    expect(error.issues[0]!.line).toBe(6);
    expect(error.issues[0]!.problem).toMatch(/nosuchmodifier/);
    const yaml = await post('/v1/hunts', { from: `${DAY}T00:00:00Z`, to: TO, sigma: 'title: x\ndetection: [unclosed\n' });
    expect(yaml.status).toBe(400);
    expect((yaml.body['error'] as { issues: { line: number; problem: string }[] }).issues[0]!.problem).toMatch(/^YAML/);
    const unknownRef = await post('/v1/hunts', { from: `${DAY}T00:00:00Z`, to: TO, sigma: 'title: c\nid: test-c\ncorrelation: { type: event_count, rules: [no_such_rule], timespan: 1h, condition: { gte: 2 } }\n' });
    expect(unknownRef.status).toBe(400);
    expect(JSON.stringify(unknownRef.body)).toContain('no_such_rule');
  });

  it('answers 400 to a range over the limit, a reversed range, unknown rule ids and unknown fields', async () => {
    const long = await post('/v1/hunts', { from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z', rules: ['*'] });
    expect(long.status).toBe(400);
    expect((long.body['error'] as { issues: { param: string; problem: string }[] }).issues).toEqual([{ param: 'to', problem: 'the range from..to may span at most 31 days' }]);
    expect((await post('/v1/hunts', { from: TO, to: FROM, rules: ['*'] })).status).toBe(400);
    const unknown = await post('/v1/hunts', { from: FROM, to: TO, rules: ['no-such-rule'] });
    expect(unknown.status).toBe(400);
    expect((unknown.body['error'] as { issues: { param: string }[] }).issues[0]!.param).toBe('rules');
    expect((await post('/v1/hunts', { from: FROM, to: TO })).status).toBe(400);
    expect((await post('/v1/hunts', { from: FROM, to: TO, rules: ['*'], extra: 1 })).status).toBe(400);
    expect((await post('/v1/hunts', [1, 2])).status).toBe(400);
    for (const payload of ["' OR '1'='1", '1; DROP TABLE ot_events; --', '%', '\u0000']) {
      const res = await post('/v1/hunts', { from: FROM, to: TO, rules: [payload] });
      expect(res.status).toBe(400);
      expect((res.body['error'] as { issues: { param: string }[] }).issues.map((i) => i.param)).toEqual(['rules']);
      expect((await post('/v1/hunts', { from: payload, to: TO, rules: ['*'] })).status).toBe(400);
    }
    const notJson = await post('/v1/hunts', '{"from": ');
    expect(notJson.status).toBe(400);
    expect((notJson.body['error'] as { code: string }).code).toBe('REQUEST.INVALID');
  });

  it('is for the SOC: 401 without credentials, 403 for viewers and analysts, findings limited to the caller\'s sites', async () => {
    const body = { from: FROM, to: TO, rules: ['weir-ics-mode-change-without-work-order'] };
    const none = await post('/v1/hunts', body, {});
    expect(none.status).toBe(401);
    expect((none.body['error'] as { code: string }).code).toBe('AUTH.MISSING_CREDENTIALS');
    expect((await post('/v1/hunts', body, { key: KEYS.hhViewer.key })).status).toBe(403);
    const analyst = await post('/v1/hunts', body, { key: KEYS.hhAnalyst.key });
    expect(analyst.status).toBe(403);
    expect((analyst.body['error'] as { code: string }).code).toBe('AUTH.ROLE_FORBIDDEN');
    const hh = await post('/v1/hunts', body, { token: token({ sub: 'soc-hh', role: 'soc', sites: ['hh'] }) });
    expect(hh.status).toBe(200);
    expect((hh.body['findings'] as Finding[]).map((f) => f.resourceUids)).toEqual([['capper1']]);
    const muc = await post('/v1/hunts', body, { token: token({ sub: 'soc-muc', role: 'soc', sites: ['muc'] }) });
    expect(muc.status).toBe(200);
    expect(muc.body['findings']).toEqual([]);
  });

  it('runs as a job: 202 with its location, progress and status, then the same result as the answered hunt; only for its creator', async () => {
    const body = { from: FROM, to: TO, rules: ['*'] };
    const started = await post('/v1/hunt-jobs', body);
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const id = String(started.body['id']);
    expect(started.headers.get('location')).toBe(`/v1/hunt-jobs/${id}`);
    expect(started.body['request']).toEqual({ from: '2026-11-15T00:00:00.000Z', to: '2026-11-25T00:00:00.000Z', rules: ['*'], sigma: false, limit: 1000 });
    const done = await waitFor(
      async () => {
        const r = await get(api, `/v1/hunt-jobs/${id}`, soc);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(['running', 'done']).toContain(r.body['status']);
        return r.body['status'] === 'done' ? r.body : undefined;
      },
      { timeoutMs: 60_000, what: 'the hunt job to finish' },
    );
    const day = scriptedDay(DAY, true);
    expect(done['progress']).toEqual({ processedTo: '2026-11-25T00:00:00.000Z', eventsProcessed: day.ot.length + day.it.length + day.telemetry.length, findings: liveAlerts.length });
    const sync = await post('/v1/hunts', body);
    const result = done['result'] as { hunt: unknown; findings: Finding[] };
    expect(result.findings.map(huntKey)).toEqual((sync.body['findings'] as Finding[]).map(huntKey));
    expect(result.findings.map(huntKey).sort()).toEqual(liveAlerts.map(liveKey).sort());
    // Another SOC caller does not see it; an admin does.
    expect((await get(api, `/v1/hunt-jobs/${id}`, { token: token({ sub: 'someone-else', role: 'soc', sites: ['*'] }) })).status).toBe(404);
    expect((await get(api, `/v1/hunt-jobs/${id}`, { key: KEYS.admin.key })).status).toBe(200);
    expect((await get(api, `/v1/hunt-jobs/${id}`, { key: KEYS.hhViewer.key })).status).toBe(403);
    expect(await del(`/v1/hunt-jobs/${id}`)).toBe(204);
    expect((await get(api, `/v1/hunt-jobs/${id}`, soc)).status).toBe(404);
    expect((await get(api, '/v1/hunt-jobs/not-an-id', soc)).status).toBe(400);
  });

  it('checks a job\'s rules before it starts', async () => {
    const res = await post('/v1/hunt-jobs', { from: FROM, to: TO, sigma: 'title: x\nid: y\nlogsource: {}\ndetection:\n  sel:\n    a: 1\n  condition: sel and nothere\n' });
    expect(res.status).toBe(400);
    const issue = (res.body['error'] as { issues: { param: string; line: number; problem: string }[] }).issues[0]!;
    expect(issue.param).toBe('sigma');
    expect(issue.line).toBeGreaterThan(0);
    expect(issue.problem).toMatch(/nothere/);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await fetch(`${api.url}/openapi.json`).then((r) => r.json())) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/v1/hunts'] ?? {})).toEqual(['post']);
    expect(Object.keys(doc.paths['/v1/inventory'] ?? {})).toEqual(['get']);
    expect(Object.keys(doc.paths['/v1/hunt-jobs'] ?? {})).toEqual(['post']);
    expect(Object.keys(doc.paths['/v1/hunt-jobs/{id}'] ?? {}).sort()).toEqual(['delete', 'get']);
  });
});
