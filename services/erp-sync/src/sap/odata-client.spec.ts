import { Writable } from 'node:stream';
import { createLogger } from '@weir/observability';
import { freePort } from '@weir/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeSap, odataErrorBody, type FakeSapOptions } from '../../test/fake-sap-server';
import { isErpSyncError, type ErpSyncError } from '../errors';
import { createAuthProvider, OAuthClientCredentials, type SapAuthSettings } from './auth';
import { ODataClient, parseODataError, parseRetryAfter } from './odata-client';

const S = 'API_MAINTENANCEORDER';
const E = 'MaintenanceOrder';
const servers: FakeSap[] = [];

async function fake(options: Partial<FakeSapOptions> = {}): Promise<FakeSap> {
  const sap = new FakeSap({ auth: { type: 'basic', username: 'WEIR_COMM', password: 's3cret' }, sapClient: '100', pageSize: 2, ...options });
  await sap.start();
  servers.push(sap);
  for (let i = 1; i <= 5; i++) sap.put(S, E, `400000${i}`, { MaintenanceOrder: `400000${i}` }, Date.UTC(2026, 10, 25, 8, i));
  return sap;
}

function client(baseUrl: string, auth: SapAuthSettings = { type: 'basic', username: 'WEIR_COMM', password: 's3cret' }, lines: string[] = []): ODataClient {
  const logger = createLogger({ service: 'test', level: 'debug', destination: new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) }) });
  return new ODataClient({ baseUrl, servicePath: '/sap/opu/odata/sap', sapClient: '100', auth: createAuthProvider(auth, { timeoutMs: 2000 }), timeoutMs: 2000, retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 }, logger, random: () => 0.5 });
}

async function ids(c: ODataClient, query = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const page of c.pages(S, E, query)) out.push(...page.results.map((r) => String(r['MaintenanceOrder'])));
  return out;
}

async function failure(p: Promise<unknown>): Promise<ErpSyncError> {
  try {
    await p;
  } catch (err) {
    if (isErpSyncError(err)) return err;
    throw err;
  }
  throw new Error('expected an ErpSyncError');
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('OData client', () => {
  it('follows __next ($skiptoken) across pages, with $format=json and sap-client', async () => {
    const sap = await fake();
    expect(await ids(client(sap.baseUrl))).toEqual(['4000001', '4000002', '4000003', '4000004', '4000005']);
    const seen = sap.requestsTo(S, E);
    expect(seen.map((r) => r.query.get('$skiptoken'))).toEqual([null, '2', '4']);
    expect(seen.every((r) => r.query.get('$format') === 'json' && r.query.get('sap-client') === '100')).toBe(true);
  });

  it('rebases __next onto the configured host, so credentials never go to the host SAP names', async () => {
    const sap = await fake({ nextOrigin: `http://127.0.0.1:${await freePort()}` });
    expect(await ids(client(sap.baseUrl))).toHaveLength(5);
  });

  it('pages with $top/$skip when the service does not page itself', async () => {
    const sap = await fake();
    expect(await ids(client(sap.baseUrl), { pageSize: 2, orderby: 'LastChangeDateTime asc' })).toHaveLength(5);
    expect(sap.requestsTo(S, E).map((r) => [r.query.get('$top'), r.query.get('$skip')])).toEqual([['2', null], ['2', '2'], ['2', '4']]);
  });

  it('sends the delta filter encoded with %20 and quotes intact', async () => {
    const sap = await fake();
    expect(await ids(client(sap.baseUrl), { filter: "LastChangeDateTime gt datetimeoffset'2026-11-25T08:03:00Z'" })).toEqual(['4000004', '4000005']);
  });

  it('retries a 500 with an OData error body and logs its code and message', async () => {
    const sap = await fake();
    sap.failNext(S, E, { status: 500, body: odataErrorBody('/IWBEP/CM_MGW_RT/020', 'Internal error in the backend') });
    const lines: string[] = [];
    expect(await ids(client(sap.baseUrl, undefined, lines))).toHaveLength(5);
    const retry = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'request failed; retrying')!;
    expect(retry).toMatchObject({ code: 'ERP.ODATA_ERROR', status: 500, odataCode: '/IWBEP/CM_MGW_RT/020', attempt: 1, maxAttempts: 3 });
    expect(retry['err']).toBe('ERP.ODATA_ERROR: API_MAINTENANCEORDER/MaintenanceOrder: HTTP 500 Internal Server Error: /IWBEP/CM_MGW_RT/020 "Internal error in the backend"');
  });

  it('waits as long as Retry-After says on 429 and 503', async () => {
    const sap = await fake();
    sap.failNext(S, E, { status: 429, body: odataErrorBody('/IWFND/CM_CONSUMER/429', 'Too many requests'), headers: { 'retry-after': '0' } }, { status: 503, body: '' });
    expect(await ids(client(sap.baseUrl))).toHaveLength(5);
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 08:00:30 GMT', Date.parse('2026-11-25T08:00:00Z'))).toBe(30_000);
    expect(parseRetryAfter('999999')).toBe(600_000);
  });

  it('gives up after the last attempt, naming service, entity set, status and OData error', async () => {
    const sap = await fake();
    const down = { status: 502, body: odataErrorBody('/IWFND/CM_BEC/004', 'Backend system not available') };
    sap.failNext(S, E, down, down, down);
    const err = await failure(ids(client(sap.baseUrl)));
    expect(err.message).toBe('ERP.ODATA_ERROR: API_MAINTENANCEORDER/MaintenanceOrder: HTTP 502 Bad Gateway: /IWFND/CM_BEC/004 "Backend system not available"');
    expect(sap.requestsTo(S, E)).toHaveLength(3);
  });

  it('does not retry a 400 (a bad filter does not get better)', async () => {
    const sap = await fake();
    sap.failNext(S, E, { status: 400, body: odataErrorBody('/IWBEP/CM_MGW_RT/022', "Invalid filter expression: 'LastChangeDateTime gt x'") });
    const err = await failure(ids(client(sap.baseUrl)));
    expect(err.code).toBe('ERP.ODATA_ERROR');
    expect(err.details).toMatchObject({ status: 400, odataCode: '/IWBEP/CM_MGW_RT/022', retryable: false });
    expect(sap.requestsTo(S, E)).toHaveLength(1);
  });

  it('reports wrong basic credentials as ERP.AUTH_FAILED without retrying', async () => {
    const sap = await fake();
    const err = await failure(ids(client(sap.baseUrl, { type: 'basic', username: 'WEIR_COMM', password: 'wrong' })));
    expect(err.message).toBe('ERP.AUTH_FAILED: API_MAINTENANCEORDER/MaintenanceOrder: HTTP 401 Unauthorized: /IWFND/CM_CONSUMER/101 "Unauthorized"');
    expect(sap.requestsTo(S, E)).toHaveLength(1);
  });

  it('fetches an OAuth token once, reuses it, and fetches a new one after a 401', async () => {
    const sap = await fake({ auth: { type: 'oauth2', clientId: 'weir', clientSecret: 'cs', tokenLifetimeS: 3600 } });
    const c = client(sap.baseUrl, { type: 'oauth2', tokenUrl: `${sap.baseUrl}/oauth/token`, clientId: 'weir', clientSecret: 'cs', clientAuthentication: 'basic' });
    expect(await ids(c)).toHaveLength(5);
    expect(sap.tokenRequests).toBe(1);
    sap.revokeTokens();
    expect(await ids(c)).toHaveLength(5);
    expect(sap.tokenRequests).toBe(2);
  });

  it('renews an OAuth token shortly before it expires', async () => {
    const sap = await fake({ auth: { type: 'oauth2', clientId: 'weir', clientSecret: 'cs', tokenLifetimeS: 600 } });
    const clock = { t: 0 };
    const auth = new OAuthClientCredentials({ type: 'oauth2', tokenUrl: `${sap.baseUrl}/oauth/token`, clientId: 'weir', clientSecret: 'cs', clientAuthentication: 'basic' }, { timeoutMs: 2000, now: () => clock.t });
    const first = await auth.authorization();
    clock.t = 539_000;
    expect(await auth.authorization()).toBe(first);
    // 600 s lifetime less a 60 s margin: from 540 s on a new token is fetched.
    clock.t = 540_000;
    expect(await auth.authorization()).not.toBe(first);
    expect(auth.tokenRequests).toBe(2);
  });

  it('reports a refused OAuth client with the authorisation server error', async () => {
    const sap = await fake({ auth: { type: 'oauth2', clientId: 'weir', clientSecret: 'cs', tokenLifetimeS: 3600 } });
    const err = await failure(ids(client(sap.baseUrl, { type: 'oauth2', tokenUrl: `${sap.baseUrl}/oauth/token`, clientId: 'weir', clientSecret: 'nope', clientAuthentication: 'basic' })));
    expect(err.message).toBe(`ERP.AUTH_FAILED: token endpoint ${sap.baseUrl}/oauth/token answered HTTP 401: invalid_client: Bad credentials`);
  });

  it('calls an HTML or XML answer a bad response, not data', async () => {
    const sap = await fake();
    sap.failNext(S, E, { status: 200, body: '<html><body>Logon</body></html>', headers: { 'content-type': 'text/html' } });
    const err = await failure(ids(client(sap.baseUrl)));
    expect(err.message).toMatch(/^ERP\.BAD_RESPONSE: API_MAINTENANCEORDER\/MaintenanceOrder: HTTP 200 with text\/html instead of JSON: <html>/);
  });

  it('retries network errors and then names them', async () => {
    const port = await freePort();
    const err = await failure(ids(client(`http://127.0.0.1:${port}`)));
    expect(err.message).toBe(`ERP.NETWORK_ERROR: API_MAINTENANCEORDER/MaintenanceOrder: request to http://127.0.0.1:${port} failed: ECONNREFUSED`);
  });

  it('reads the JSON and XML forms of OData errors', () => {
    expect(parseODataError(JSON.stringify(odataErrorBody('X/1', 'boom')))).toEqual({ code: 'X/1', message: 'boom' });
    expect(parseODataError('{"error":{"code":"Y","message":"plain"}}')).toEqual({ code: 'Y', message: 'plain' });
    expect(parseODataError('<?xml version="1.0"?><error xmlns="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"><code>Z/9</code><message xml:lang="en">xml boom</message></error>')).toEqual({ code: 'Z/9', message: 'xml boom' });
    expect(parseODataError('gateway timeout')).toEqual({});
  });
});
