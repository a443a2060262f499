import { backoffDelay, sleep } from '@weir/kafka';
import type { Logger } from '@weir/observability';
import { ErpSyncError, isErpSyncError, messageOf } from '../errors';
import type { AuthProvider } from './auth';

/** Retries of one request. */
export interface RetryOptions {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Delay before the first retry; doubles each time (±20 % jitter). */
  initialDelayMs: number;
  /** Upper bound of a computed delay; a Retry-After header may ask for longer (up to 10 minutes). */
  maxDelayMs: number;
}

/** Settings of an OData v2 client for one SAP system. */
export interface ODataClientOptions {
  /** Scheme, host and port of the SAP system (`https://s4.example.com:44300`). */
  baseUrl: string;
  /** Path under which the services live; SAP Gateway's is `/sap/opu/odata/sap`. */
  servicePath: string;
  /** SAP client (Mandant), sent as the `sap-client` query parameter; the system default when absent. */
  sapClient?: string;
  auth: AuthProvider;
  /** Time one HTTP request may take. */
  timeoutMs: number;
  retry: RetryOptions;
  logger: Logger;
  /** Called before each retry with the error's code (for the retry metric). */
  onRetry?: (service: string, code: string) => void;
  /** Randomness of the backoff jitter; injectable for tests. */
  random?: () => number;
}

/** What to ask of an entity set. */
export interface ODataQuery {
  filter?: string;
  select?: readonly string[];
  expand?: readonly string[];
  orderby?: string;
  /**
   * Page size for client-driven paging (`$top`/`$skip`), used only while the
   * service does not page by itself: a response with `__next` is followed instead.
   */
  pageSize?: number;
}

/** One page of an entity set. */
export interface ODataPage {
  results: Record<string, unknown>[];
  /** The URL the page came from (for logs). */
  url: string;
}

/** The parts of an OData v2 error body a person needs: `{"error":{"code":…,"message":{"lang":…,"value":…}}}`. */
export interface ODataErrorBody {
  code?: string;
  message?: string;
}

const MAX_RETRY_AFTER_MS = 10 * 60_000;

/**
 * Reads the error of an OData v2 error response: JSON (`error.code`,
 * `error.message.value` or a plain `error.message`) or the XML form
 * (`<error><code>…</code><message>…</message></error>`).
 */
export function parseODataError(body: string): ODataErrorBody {
  try {
    const json = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    const e = json.error;
    if (e && typeof e === 'object') {
      const message = typeof e.message === 'string' ? e.message : typeof (e.message as { value?: unknown } | undefined)?.value === 'string' ? (e.message as { value: string }).value : undefined;
      return { ...(typeof e.code === 'string' ? { code: e.code } : {}), ...(message !== undefined ? { message } : {}) };
    }
  } catch {
    // not JSON; try XML below
  }
  const code = /<code>([^<]*)<\/code>/.exec(body)?.[1];
  const message = /<message[^>]*>([^<]*)<\/message>/.exec(body)?.[1];
  return { ...(code !== undefined ? { code } : {}), ...(message !== undefined ? { message } : {}) };
}

/** Milliseconds a `Retry-After` header asks to wait (seconds or an HTTP date), capped at 10 minutes; undefined if absent or unreadable. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(MAX_RETRY_AFTER_MS, Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - now));
}

// Query options are written with %20 rather than '+' for spaces: ABAP's ICF reads
// both, but other gateways in front of SAP do not always.
function encodeQuery(params: ReadonlyArray<readonly [string, string]>): string {
  return params.map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/'/g, '%27')}`).join('&');
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * A read-only OData v2 client for SAP Gateway services: JSON format, the
 * `sap-client` parameter, basic or OAuth authentication (a 401 drops the token
 * and repeats once), server-driven paging through `__next` (`$skiptoken`) or
 * client-driven `$top`/`$skip`, and retries with exponential backoff on 5xx,
 * 408, 429 and network errors, honouring Retry-After. Errors name the service,
 * the entity set, the HTTP status and the OData error code and message.
 */
export class ODataClient {
  private readonly origin: string;
  private readonly servicePath: string;

  constructor(private readonly options: ODataClientOptions) {
    const base = new URL(options.baseUrl);
    this.origin = base.origin;
    this.servicePath = `${base.pathname.replace(/\/$/, '')}/${options.servicePath.replace(/^\/|\/$/g, '')}`.replace(/\/+/g, '/');
  }

  /** The first URL of a query. */
  url(service: string, entitySet: string, query: ODataQuery, skip?: number): string {
    const params: [string, string][] = [['$format', 'json']];
    if (this.options.sapClient) params.push(['sap-client', this.options.sapClient]);
    if (query.filter) params.push(['$filter', query.filter]);
    if (query.select?.length) params.push(['$select', query.select.join(',')]);
    if (query.expand?.length) params.push(['$expand', query.expand.join(',')]);
    if (query.orderby) params.push(['$orderby', query.orderby]);
    if (query.pageSize) {
      params.push(['$top', String(query.pageSize)]);
      if (skip) params.push(['$skip', String(skip)]);
    }
    return `${this.origin}${this.servicePath}/${service}/${entitySet}?${encodeQuery(params)}`;
  }

  /**
   * `__next` as a URL on the configured system. SAP writes it with the host it
   * believes it has, which behind a reverse proxy or the Cloud Connector is not
   * the one we reach it by (and must never receive our credentials): keep its
   * path and query, take scheme, host and port from the settings, and make sure
   * `$format=json` and `sap-client` survive.
   */
  private followNext(next: string, current: string): string {
    const resolved = new URL(next, current);
    const url = new URL(`${resolved.pathname}${resolved.search}`, this.origin);
    if (!url.searchParams.has('$format')) url.searchParams.set('$format', 'json');
    if (this.options.sapClient && !url.searchParams.has('sap-client')) url.searchParams.set('sap-client', this.options.sapClient);
    return url.toString().replace(/\+/g, '%20');
  }

  /** Pages of an entity set, in order; stops at the last page. */
  async *pages(service: string, entitySet: string, query: ODataQuery, signal?: AbortSignal): AsyncGenerator<ODataPage> {
    let url = this.url(service, entitySet, query);
    let skip = 0;
    const seen = new Set<string>();
    for (;;) {
      seen.add(url);
      const body = await this.getJson(url, { service, entitySet }, signal);
      const { results, next } = this.readCollection(body, { service, entitySet });
      yield { results, url };
      if (next !== undefined) {
        const nextUrl = this.followNext(next, url);
        if (seen.has(nextUrl)) throw new ErpSyncError('ERP.BAD_RESPONSE', `${service}/${entitySet}: __next points back to a page already read (${nextUrl}); stopping instead of looping`);
        url = nextUrl;
      } else if (query.pageSize && results.length >= query.pageSize) {
        skip += results.length;
        url = this.url(service, entitySet, query, skip);
      } else {
        return;
      }
    }
  }

  private readCollection(body: unknown, ctx: { service: string; entitySet: string }): { results: Record<string, unknown>[]; next?: string } {
    const d = (body as { d?: unknown } | null)?.d;
    // OData v2 wraps collections as d.results; the v1 form is a bare array in d.
    const container = Array.isArray(d) ? { results: d } : (d as { results?: unknown; __next?: unknown } | undefined);
    if (!container || !Array.isArray(container.results)) {
      throw new ErpSyncError('ERP.BAD_RESPONSE', `${ctx.service}/${ctx.entitySet}: the answer is not an OData v2 collection (no d.results)`);
    }
    const results = container.results.filter((r): r is Record<string, unknown> => r !== null && typeof r === 'object');
    const next = typeof (container as { __next?: unknown }).__next === 'string' ? (container as { __next: string }).__next : undefined;
    return next !== undefined ? { results, next } : { results };
  }

  /** GETs a URL as JSON with authentication and retries. */
  async getJson(url: string, ctx: { service: string; entitySet: string }, signal?: AbortSignal): Promise<unknown> {
    const { retry, logger } = this.options;
    let refreshedAuth = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(url, ctx, signal);
      } catch (err) {
        if (signal?.aborted) throw err;
        if (isErpSyncError(err) && err.details.status === 401 && !refreshedAuth && this.options.auth.invalidate()) {
          // A rejected token is replaced at once; this does not use up an attempt.
          refreshedAuth = true;
          attempt--;
          logger.info({ service: ctx.service, entitySet: ctx.entitySet }, 'the service rejected the token (401); fetching a new one');
          continue;
        }
        const retryable = isErpSyncError(err) ? err.details.retryable === true : false;
        if (!retryable || attempt >= retry.maxAttempts) {
          if (retryable) logger.error({ service: ctx.service, entitySet: ctx.entitySet, attempts: attempt, err: messageOf(err) }, 'giving up after the last attempt');
          throw err;
        }
        const computed = backoffDelay(attempt, { initialMs: retry.initialDelayMs, maxMs: retry.maxDelayMs }, this.options.random);
        const retryAfter = isErpSyncError(err) ? err.details.retryAfterMs : undefined;
        const delayMs = retryAfter !== undefined ? Math.max(retryAfter, computed) : computed;
        const code = isErpSyncError(err) ? err.code : 'ERP.UNEXPECTED';
        logger.warn({ service: ctx.service, entitySet: ctx.entitySet, code, status: (err as ErpSyncError).details?.status, odataCode: (err as ErpSyncError).details?.odataCode, attempt, maxAttempts: retry.maxAttempts, delayMs, err: messageOf(err) }, 'request failed; retrying');
        this.options.onRetry?.(ctx.service, code);
        await sleep(delayMs, signal);
        if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
      }
    }
  }

  private async attempt(url: string, ctx: { service: string; entitySet: string }, signal?: AbortSignal): Promise<unknown> {
    const where = `${ctx.service}/${ctx.entitySet}`;
    const authorization = await this.options.auth.authorization(signal);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (authorization) headers['authorization'] = authorization;
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    let res: Response;
    let raw: string;
    try {
      res = await fetch(url, { headers, signal: signal ? AbortSignal.any([signal, timeout]) : timeout, redirect: 'manual' });
      raw = await res.text();
    } catch (err) {
      if (signal?.aborted) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const reason = timeout.aborted ? `no answer within ${this.options.timeoutMs} ms` : (cause?.code ?? cause?.message ?? messageOf(err));
      throw new ErpSyncError('ERP.NETWORK_ERROR', `${where}: request to ${this.origin} failed: ${reason}`, { retryable: true }, { cause: err });
    }
    if (res.ok) {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        // An HTML login page or an XML answer is a configuration problem (proxy, wrong path), not a transient one.
        throw new ErpSyncError('ERP.BAD_RESPONSE', `${where}: HTTP ${res.status} with ${res.headers.get('content-type') ?? 'no content type'} instead of JSON: ${raw.slice(0, 200).replace(/\s+/g, ' ')}`, { status: res.status });
      }
    }
    const odata = parseODataError(raw);
    const detail = odata.code || odata.message ? `${odata.code ?? '(no code)'} "${odata.message ?? ''}"` : raw.slice(0, 200).replace(/\s+/g, ' ') || '(empty body)';
    const statusText = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    if (res.status === 401 || res.status === 403) {
      throw new ErpSyncError('ERP.AUTH_FAILED', `${where}: ${statusText}: ${detail}`, { status: res.status, retryable: false, ...(odata.code ? { odataCode: odata.code } : {}) });
    }
    if (res.status >= 300 && res.status < 400) {
      throw new ErpSyncError('ERP.BAD_RESPONSE', `${where}: ${statusText} redirect to ${res.headers.get('location') ?? '(no location)'}; set baseUrl to the system's address (redirects are not followed so credentials stay on it)`, { status: res.status });
    }
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    throw new ErpSyncError('ERP.ODATA_ERROR', `${where}: ${statusText}: ${detail}`, {
      status: res.status,
      retryable: isRetryableStatus(res.status),
      ...(odata.code ? { odataCode: odata.code } : {}),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
}
