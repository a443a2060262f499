import type { OtEventV1 } from '@weir/contracts';
import type { TestDatabase } from '@weir/testing';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { huntSectionSchema } from '../src/hunt/hunt.config';
import type { RunningAnalyticsApi } from '../src/index';
import { OT_EVENT_COLUMNS, otEventRow } from '../../timescale-sink/src/events/event-rows';
import { get, KEYS, qs, queryRows, runSql, scenarioDatabase, startTestApi, testSettings, token } from './helpers';

// A plant seen through its stored OT events and series, against the ERP asset register:
// - plc-hh: connected with the endpoint attributes of the connector (GetEndpoints offers a None endpoint too);
// - plc-old: an older connector's connect event without them, then the connection was lost;
// - clients: an HMI with Basic256Sha256 and an anonymous client with SecurityPolicy None;
// - ghost1 sends data and press1 audit events, neither is registered; capper1 is registered and silent.

const FROM = '2026-11-24T00:00:00Z';
const TO = '2026-11-25T00:00:00Z';
const MAPPING = [{ kind: 'pattern', name: 'machines', target: 'nodeId', regex: '^ns=3;s=(\\w+)\\.(\\w+)\\.', assetId: '${2:lower}', assetPath: 'acme/hh/${1:lower}/${2:lower}' }];
const SECURE = 'http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256';
const NONE = 'http://opcfoundation.org/UA/SecurityPolicy#None';

let db: TestDatabase;
let api: RunningAnalyticsApi;
let n = 0;

function event(sourceId: string, time: string, kind: OtEventV1['kind'], type: string, extra: Partial<OtEventV1> = {}): OtEventV1 {
  n++;
  return { eventId: `ev-${n}`, sourceId, kind, type, time, severity: 200, message: type, attributes: {}, ...extra };
}

const EVENTS: OtEventV1[] = [
  event('plc-hh', '2026-11-24T06:00:00.000Z', 'connection', 'connector.connected', {
    attributes: {
      endpointUrl: 'opc.tcp://plc-hh:4840',
      securityMode: 'SignAndEncrypt',
      securityPolicyUri: SECURE,
      serverApplicationUri: 'urn:plc-hh:server',
      endpoints: [
        { endpointUrl: 'opc.tcp://plc-hh:4840', securityMode: 'SignAndEncrypt', securityPolicyUri: SECURE },
        { endpointUrl: 'opc.tcp://plc-hh:4840', securityMode: 'None', securityPolicyUri: NONE },
      ],
    },
  }),
  event('plc-old', '2026-11-24T05:00:00.000Z', 'connection', 'connector.connected', { attributes: { endpointUrl: 'opc.tcp://plc-old:4840' } }),
  event('plc-old', '2026-11-24T09:00:00.000Z', 'connection', 'connector.connection-lost', { severity: 600, attributes: { endpointUrl: 'opc.tcp://plc-old:4840' } }),
  event('plc-hh', '2026-11-24T08:00:00.000Z', 'audit', 'AuditCreateSessionEventType', { actor: { user: 'operator1', clientAddress: '10.20.0.15:51234', clientApplicationUri: 'urn:hmi1' }, attributes: { SecurityPolicyUri: SECURE } }),
  event('plc-hh', '2026-11-24T09:00:00.000Z', 'audit', 'AuditActivateSessionEventType', { actor: { user: 'operator1', clientAddress: '10.20.0.15:51240', clientApplicationUri: 'urn:hmi1' }, attributes: { SecurityPolicyUri: SECURE } }),
  event('plc-hh', '2026-11-24T16:00:00.000Z', 'audit', 'AuditCreateSessionEventType', { actor: { user: 'anonymous', clientAddress: 'opc.tcp://10.50.0.66:4840' }, attributes: { SecurityPolicyUri: NONE } }),
  event('plc-hh', '2026-11-24T18:50:00.000Z', 'audit', 'AuditUpdateMethodEventType', { nodeId: 'ns=3;s=Line1.Press1.Program', actor: { user: 'engineer1', clientAddress: '10.99.0.5' }, attributes: { methodName: 'DownloadProgram' } }),
  // Outside the window: not counted.
  event('plc-hh', '2026-11-20T08:00:00.000Z', 'audit', 'AuditCreateSessionEventType', { actor: { user: 'old', clientAddress: '10.1.1.1' } }),
];

beforeAll(async () => {
  db = await scenarioDatabase(inject('databaseUrl'), { scenario: false });
  await runSql(
    db.url,
    `INSERT INTO assets (id, valid_from, parent_id, level, name, path, changed_at) VALUES
       ('acme', '2020-01-01Z', NULL, 'enterprise', 'ACME', 'acme', '2020-01-01Z'),
       ('hh', '2020-01-01Z', 'acme', 'site', 'Hamburg', 'acme/hh', '2020-01-01Z'),
       ('line1', '2020-01-01Z', 'hh', 'line', 'Line 1', 'acme/hh/line1', '2020-01-01Z'),
       ('filler1', '2020-01-01Z', 'line1', 'machine', 'Filler 1', 'acme/hh/line1/filler1', '2020-01-01Z'),
       ('capper1', '2020-01-01Z', 'line1', 'machine', 'Capper 1', 'acme/hh/line1/capper1', '2020-01-01Z'),
       ('muc', '2020-01-01Z', 'acme', 'site', 'Munich', 'acme/muc', '2020-01-01Z'),
       ('muc-m1', '2020-01-01Z', 'muc', 'machine', 'Munich filler', 'acme/muc/muc-m1', '2020-01-01Z');
     INSERT INTO series (source_id, node_id, asset_id, first_seen, last_seen) VALUES
       ('plc-hh', 'ns=3;s=Line1.Filler1.Temperature', 'filler1', '2026-11-01Z', '2026-11-24T23:59Z'),
       ('plc-hh', 'ns=3;s=Line1.Ghost1.Speed', 'ghost1', '2026-11-01Z', '2026-11-24T12:00Z'),
       ('plc-hh', 'ns=3;s=Unmapped.Tag', NULL, '2026-11-01Z', '2026-11-24T12:00Z'),
       ('plc-muc', 'ns=3;s=M1.Temperature', 'muc-m1', '2026-11-01Z', '2026-11-24T23:30Z');`,
  );
  // Rows as the sink writes them (its own row mapping).
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    for (const e of EVENTS) {
      const row = otEventRow(e);
      await c.query(`INSERT INTO ot_events (${OT_EVENT_COLUMNS.join(', ')}) VALUES (${row.map((_, i) => `$${i + 1}`).join(', ')})`, row.map((v, i) => (OT_EVENT_COLUMNS[i] === 'event' ? JSON.stringify(v) : v)));
    }
  } finally {
    await c.end();
  }
  api = await startTestApi({ ...testSettings(db.url, { rateLimit: { perMinute: 0, burst: 1 } }), hunt: huntSectionSchema.parse({ assetMapping: MAPPING }) });
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

interface Inventory {
  servers: { sourceId: string; serverApplicationUri: string | null; endpointUrl: string | null; securityMode: string | null; endpoints: { securityMode: string; insecure: boolean }[]; connection: { state: string; lastChangeType: string | null }; series: number; unmappedSeries: number; lastData: string | null; otEvents: number }[];
  clients: { sourceId: string; clientHost: string | null; clientApplicationUri: string | null; auditEvents: number; users: string[]; securityPolicyUris: string[]; firstSeen: string; lastSeen: string }[];
  assets: { registered: number; seen: number; seenNotRegistered: { assetId: string; lastData: string | null; lastEvent: string | null }[]; registeredSilent: { assetId: string }[] };
  findings: { type: string; sourceId?: string; assetId?: string }[];
}

const inventory = async (params: Record<string, string>, auth: { key?: string; token?: string } = { key: KEYS.soc.key }) => get(api, `/v1/inventory?${qs(params)}`, auth);

describe('inventory', () => {
  it('lists the OPC UA servers with their endpoints and security, an endpoint without security as a finding, older connect events tolerated', async () => {
    const res = await inventory({ from: FROM, to: TO });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const inv = res.body as unknown as Inventory;
    const hh = inv.servers.find((s) => s.sourceId === 'plc-hh')!;
    expect(hh).toMatchObject({ serverApplicationUri: 'urn:plc-hh:server', endpointUrl: 'opc.tcp://plc-hh:4840', securityMode: 'SignAndEncrypt', connection: { state: 'connected', lastChangeType: 'connector.connected' }, series: 3, unmappedSeries: 1, otEvents: 5 });
    expect(hh.endpoints.map((e) => [e.securityMode, e.insecure])).toEqual([['SignAndEncrypt', false], ['None', true]]);
    const old = inv.servers.find((s) => s.sourceId === 'plc-old')!;
    expect(old).toMatchObject({ endpointUrl: 'opc.tcp://plc-old:4840', securityMode: null, endpoints: [], connection: { state: 'disconnected', lastChangeType: 'connector.connection-lost' }, series: 0, lastData: null });
    expect(inv.servers.map((s) => s.sourceId)).toEqual(['plc-hh', 'plc-muc', 'plc-old']);
    expect(inv.findings.filter((f) => f.type === 'endpoint-without-security')).toEqual([expect.objectContaining({ sourceId: 'plc-hh', endpointUrl: 'opc.tcp://plc-hh:4840' })]);
    expect(inv.findings.filter((f) => f.type === 'connection-without-security')).toEqual([]);
  });

  it('lists the OPC UA clients seen in audit events by host and application, with users and security policies', async () => {
    const inv = (await inventory({ from: FROM, to: TO })).body as unknown as Inventory;
    expect(inv.clients.map((c) => [c.sourceId, c.clientHost, c.clientApplicationUri, c.auditEvents, c.users, c.securityPolicyUris])).toEqual([
      ['plc-hh', '10.20.0.15', 'urn:hmi1', 2, ['operator1'], [SECURE]],
      ['plc-hh', '10.50.0.66', null, 1, ['anonymous'], [NONE]],
      ['plc-hh', '10.99.0.5', null, 1, ['engineer1'], []],
    ]);
    expect(inv.findings.filter((f) => f.type === 'client-without-security' || f.type === 'anonymous-client').map((f) => f.type).sort()).toEqual(['anonymous-client', 'client-without-security']);
  });

  it('reconciles with the ERP register: seen but not registered, registered but silent', async () => {
    const inv = (await inventory({ from: FROM, to: TO, silentAfter: '6h' })).body as unknown as Inventory;
    expect(inv.assets.seenNotRegistered.map((a) => [a.assetId, a.lastData, a.lastEvent])).toEqual([
      ['ghost1', '2026-11-24T12:00:00.000Z', null],
      ['press1', null, '2026-11-24T18:50:00.000Z'],
    ]);
    // filler1 and muc-m1 sent data within 6 h of `to`; capper1 never did.
    expect(inv.assets.registeredSilent.map((a) => a.assetId)).toEqual(['capper1']);
    expect(inv.assets.registered).toBe(7);
    expect(inv.assets.seen).toBe(2);
    // With a shorter window filler1 (last sample 23:59) stays, muc-m1 (23:30) falls silent.
    const short = (await inventory({ from: FROM, to: TO, silentAfter: '15m' })).body as unknown as Inventory;
    expect(short.assets.registeredSilent.map((a) => a.assetId)).toEqual(['capper1', 'muc-m1']);
    expect(inv.findings.filter((f) => f.type === 'seen-not-registered').map((f) => f.assetId)).toEqual(['ghost1', 'press1']);
  });

  it('scopes to the caller\'s sites', async () => {
    const res = await inventory({ from: FROM, to: TO, silentAfter: '6h' }, { token: token({ sub: 'soc-muc', role: 'soc', sites: ['muc'] }) });
    expect(res.status).toBe(200);
    const inv = res.body as unknown as Inventory;
    expect(inv.servers.map((s) => s.sourceId)).toEqual(['plc-muc']);
    expect(inv.clients).toEqual([]);
    expect(inv.assets.seenNotRegistered).toEqual([]);
    expect(inv.assets.registered).toBe(2);
  });

  it('refuses bad requests, other roles and missing credentials', async () => {
    const bad = await inventory({ from: TO, to: FROM });
    expect(bad.status).toBe(400);
    expect((bad.body['error'] as { issues: { param: string }[] }).issues.map((i) => i.param)).toEqual(['to']);
    const badDuration = await inventory({ from: FROM, to: TO, silentAfter: '1 week' });
    expect(badDuration.status).toBe(400);
    expect((badDuration.body['error'] as { issues: { param: string }[] }).issues.map((i) => i.param)).toEqual(['silentAfter']);
    expect((await inventory({ from: FROM, to: TO }, { key: KEYS.hhViewer.key })).status).toBe(403);
    expect((await inventory({ from: FROM, to: TO }, { key: KEYS.hhAnalyst.key })).status).toBe(403);
    expect((await inventory({ from: FROM, to: TO }, {})).status).toBe(401);
  });

  it('refuses injection attempts in every parameter, naming it', async () => {
    const valid = { from: FROM, to: TO, silentAfter: '6h' };
    for (const param of Object.keys(valid)) {
      for (const payload of ["' OR '1'='1", '1; DROP TABLE series; --', '%', '\\', '\u0000', '24h OR 1=1']) {
        const res = await inventory({ ...valid, [param]: payload });
        const where = `${param}=${JSON.stringify(payload)}: ${JSON.stringify(res.body)}`;
        expect(res.status, where).toBe(400);
        expect((res.body['error'] as { issues: { param: string }[] }).issues.map((i) => i.param), where).toContain(param);
      }
    }
    const [n] = await queryRows<{ n: string }>(db.url, 'SELECT count(*) AS n FROM series');
    expect(Number(n!.n)).toBe(4);
  });
});
