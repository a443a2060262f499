import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatODataDate } from '../src/sap/odata-values';

/** A canned answer that replaces the next real one(s) for a path. */
export interface CannedResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One request the server saw. */
export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
}

/** How the fake authenticates. */
export type FakeAuth = { type: 'basic'; username: string; password: string } | { type: 'oauth2'; clientId: string; clientSecret: string; tokenLifetimeS: number };

/** Options of the fake SAP Gateway. */
export interface FakeSapOptions {
  auth: FakeAuth;
  /** Required `sap-client` value. */
  sapClient?: string;
  /** Server-side page size (`__next` with `$skiptoken` after this many). */
  pageSize: number;
  /** Write `__next` with this origin instead of the one the client used (SAP behind a reverse proxy). */
  nextOrigin?: string;
}

interface StoredRow {
  row: Record<string, unknown>;
  changedMs: number;
}

/** The OData v2 error body SAP Gateway writes. */
export function odataErrorBody(code: string, message: string): unknown {
  return { error: { code, message: { lang: 'en', value: message }, innererror: { application: { component_id: 'PM-WOC-MO', service_namespace: '/SAP/', service_id: 'API_MAINTENANCEORDER', service_version: '0001' }, transactionid: randomBytes(16).toString('hex').toUpperCase() } } };
}

const DELTA = /LastChangeDateTime gt datetimeoffset'([^']+)'/;
const EQ = /\b([A-Za-z_][A-Za-z0-9_]*) eq '([^']*)'/g;
const SERVICE_PATH = '/sap/opu/odata/sap/';

/**
 * A loopback HTTP server answering like SAP Gateway for OData v2 read
 * requests: `d.results`, server-driven paging with `__next` and `$skiptoken`,
 * client paging with `$top`/`$skip`, `$filter` on LastChangeDateTime (gt
 * datetimeoffset) and `Field eq 'value'`, `$expand` of navigation properties
 * (deferred otherwise), `$format=json` (XML otherwise), `sap-client`, basic
 * auth or an OAuth client-credentials token endpoint, and canned error answers.
 */
export class FakeSap {
  private server: Server | undefined;
  private readonly sets = new Map<string, Map<string, StoredRow>>();
  private readonly canned = new Map<string, CannedResponse[]>();
  private readonly tokens = new Set<string>();
  readonly requests: SeenRequest[] = [];
  tokenRequests = 0;
  baseUrl = '';

  constructor(readonly options: FakeSapOptions) {}

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Adds or replaces a record; `LastChangeDateTime` is set from `changedMs`. */
  put(service: string, entitySet: string, key: string, row: Record<string, unknown>, changedMs: number): void {
    const set = this.sets.get(`${service}/${entitySet}`) ?? new Map<string, StoredRow>();
    this.sets.set(`${service}/${entitySet}`, set);
    set.set(key, { row: { ...row, LastChangeDateTime: formatODataDate(changedMs) }, changedMs });
  }

  /** Removes a record for good (as SAP's archiving or a hard delete would): the delta will not show it. */
  remove(service: string, entitySet: string, key: string): void {
    this.sets.get(`${service}/${entitySet}`)?.delete(key);
  }

  /** The next requests to `<service>/<entitySet>` get these answers, one each, before real ones again. */
  failNext(service: string, entitySet: string, ...responses: CannedResponse[]): void {
    this.canned.set(`${service}/${entitySet}`, [...(this.canned.get(`${service}/${entitySet}`) ?? []), ...responses]);
  }

  /** Invalidates every issued token (a key rotation): the next API call answers 401. */
  revokeTokens(): void {
    this.tokens.clear();
  }

  /** Requests to one entity set. */
  requestsTo(service: string, entitySet: string): SeenRequest[] {
    return this.requests.filter((r) => r.path === `${SERVICE_PATH}${service}/${entitySet}`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, authorization: req.headers.authorization });
    if (url.pathname === '/oauth/token') return this.token(req, res);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
    };
    if (!url.pathname.startsWith(SERVICE_PATH)) return json(404, odataErrorBody('/IWFND/MED/170', `No service found for namespace '', name '${url.pathname}', version '0001'`));
    const [service, entitySet] = url.pathname.slice(SERVICE_PATH.length).split('/');
    if (!this.authorised(req)) {
      return json(401, odataErrorBody('/IWFND/CM_CONSUMER/101', 'Unauthorized'), { 'www-authenticate': this.options.auth.type === 'basic' ? 'Basic realm="SAP NetWeaver Application Server"' : 'Bearer' });
    }
    if (this.options.sapClient && url.searchParams.get('sap-client') !== this.options.sapClient) {
      return json(400, odataErrorBody('/IWFND/CM_BEC/026', `Logon to client ${url.searchParams.get('sap-client') ?? '(default)'} is not configured`));
    }
    const key = `${service}/${entitySet}`;
    const canned = this.canned.get(key)?.shift();
    if (canned) {
      res.writeHead(canned.status, { 'content-type': 'application/json; charset=utf-8', ...canned.headers }).end(canned.body === undefined ? '' : typeof canned.body === 'string' ? canned.body : JSON.stringify(canned.body));
      return;
    }
    const set = this.sets.get(key);
    if (!set) return json(404, odataErrorBody('/IWBEP/CM_MGW_RT/021', `Resource not found for segment '${entitySet}'`));
    if (url.searchParams.get('$format') !== 'json') {
      res.writeHead(200, { 'content-type': 'application/atom+xml;type=feed; charset=utf-8' }).end('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"/>');
      return;
    }
    const filter = url.searchParams.get('$filter') ?? '';
    const delta = DELTA.exec(filter);
    const afterMs = delta ? Date.parse(delta[1]!) : undefined;
    const equals = [...filter.replace(DELTA, '').matchAll(EQ)].map((m) => [m[1]!, m[2]!] as const);
    const expand = new Set((url.searchParams.get('$expand') ?? '').split(',').filter(Boolean));
    const all = [...set.entries()]
      .filter(([, s]) => afterMs === undefined || s.changedMs > afterMs)
      .filter(([, s]) => equals.every(([field, value]) => String(s.row[field]) === value))
      .sort(([ka, a], [kb, b]) => a.changedMs - b.changedMs || (ka < kb ? -1 : ka > kb ? 1 : 0))
      .map(([k, s]) => this.shape(service!, entitySet!, k, s.row, expand));
    const top = url.searchParams.get('$top');
    if (top !== null) {
      const skip = Number(url.searchParams.get('$skip') ?? 0);
      return json(200, { d: { results: all.slice(skip, skip + Number(top)) } });
    }
    const offset = Number(url.searchParams.get('$skiptoken') ?? 0);
    const page = all.slice(offset, offset + this.options.pageSize);
    const d: Record<string, unknown> = { results: page };
    if (offset + this.options.pageSize < all.length) {
      const next = new URLSearchParams(url.searchParams);
      next.set('$skiptoken', String(offset + this.options.pageSize));
      d['__next'] = `${this.options.nextOrigin ?? this.baseUrl}${url.pathname}?${next.toString().replace(/\+/g, '%20')}`;
    }
    json(200, { d });
  }

  // Navigation properties are deferred unless expanded, as in SAP's answers.
  private shape(service: string, entitySet: string, key: string, row: Record<string, unknown>, expand: Set<string>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) {
      if (k.startsWith('to_') && !expand.has(k)) out[k] = { __deferred: { uri: `${this.baseUrl}${SERVICE_PATH}${service}/${entitySet}('${key}')/${k}` } };
      else out[k] = v;
    }
    return out;
  }

  private authorised(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const auth = this.options.auth;
    if (auth.type === 'basic') return header === `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    return header.startsWith('Bearer ') && this.tokens.has(header.slice('Bearer '.length));
  }

  private async token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.tokenRequests++;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString());
    const auth = this.options.auth;
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (auth.type !== 'oauth2' || req.method !== 'POST') return json(404, { error: 'not_found' });
    const expected = `Basic ${Buffer.from(`${auth.clientId}:${auth.clientSecret}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return json(401, { error: 'invalid_client', error_description: 'Bad credentials' });
    if (form.get('grant_type') !== 'client_credentials') return json(400, { error: 'unsupported_grant_type' });
    const token = randomBytes(12).toString('hex');
    this.tokens.add(token);
    json(200, { access_token: token, token_type: 'bearer', expires_in: auth.tokenLifetimeS, scope: 'API_MAINTENANCEORDER' });
  }
}
