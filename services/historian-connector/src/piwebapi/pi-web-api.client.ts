import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { PiSourceSettings } from '../config';
import { HistorianError } from '../errors';

/** Longest answer read (a recorded-values page of maxCount values is far below). */
const MAX_BODY_BYTES = 512 * 1024 * 1024;

/**
 * A minimal GET-only PI Web API client: JSON answers, Basic or bearer auth,
 * TLS with an extra CA, a timeout per request. Errors name the request and
 * carry PI's own messages (`{"Errors":[...]}`); 5xx, 429 and network errors
 * are marked retryable.
 */
export class PiWebApiClient {
  private readonly base: URL;
  private readonly ca: Buffer | undefined;
  private readonly auth: string | undefined;

  constructor(private readonly settings: Pick<PiSourceSettings, 'baseUrl' | 'auth' | 'tls' | 'requestTimeout'>) {
    this.base = new URL(settings.baseUrl.endsWith('/') ? settings.baseUrl : `${settings.baseUrl}/`);
    try {
      this.ca = settings.tls.ca ? readFileSync(settings.tls.ca) : undefined;
    } catch (err) {
      throw new HistorianError('HISTORIAN.CONFIG', `tls.ca: cannot read ${settings.tls.ca}: ${String(err instanceof Error ? err.message : err)}`, {}, { cause: err });
    }
    const a = settings.auth;
    this.auth = a.type === 'basic' ? `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}` : a.type === 'bearer' ? `Bearer ${a.token}` : undefined;
  }

  /** The absolute URL of a path relative to the base (`streams/{webId}/recorded`) with query parameters (arrays repeat the name). */
  url(path: string, query: Record<string, string | number | readonly string[] | undefined> = {}): string {
    const u = new URL(path, this.base);
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const x of v as readonly string[]) u.searchParams.append(k, x);
      else u.searchParams.set(k, String(v));
    }
    return u.toString();
  }

  /** GETs a URL (absolute, e.g. a `Links.Next`) and parses the JSON answer. */
  get(url: string, signal?: AbortSignal): Promise<unknown> {
    const u = new URL(url);
    const isHttps = u.protocol === 'https:';
    const what = `GET ${u.pathname}${u.search.length > 200 ? `${u.search.slice(0, 200)}…` : u.search}`;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { accept: 'application/json', 'x-requested-with': 'weir-historian-connector' };
      if (this.auth) headers['authorization'] = this.auth;
      const options = { method: 'GET', headers, timeout: this.settings.requestTimeout, ...(signal ? { signal } : {}) };
      const onResponse = (res: IncomingMessage): void => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (bytes > MAX_BODY_BYTES) {
            res.destroy(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('error', (err) => reject(new HistorianError('HISTORIAN.UNREACHABLE', `${what}: ${err.message}`, { retryable: true }, { cause: err })));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let body: unknown;
          let parsed = true;
          try {
            body = text.length > 0 ? JSON.parse(text) : undefined;
          } catch {
            parsed = false;
          }
          if (status < 200 || status >= 300) {
            const retryable = status >= 500 || status === 429;
            const detail = piErrors(body) ?? (text.length === 0 ? res.statusMessage || 'no body' : parsed ? JSON.stringify(body ?? null).slice(0, 300) : snippet(text));
            reject(new HistorianError('HISTORIAN.PI_ERROR', `${what} answered ${status}: ${detail}${status === 401 || status === 403 ? `; ${this.refusedHint(res)}` : ''}`, { status, retryable }));
            return;
          }
          if (!parsed) {
            reject(new HistorianError('HISTORIAN.PI_BAD_RESPONSE', `${what} answered ${status} with something that is not JSON: ${snippet(text)}`, { status, retryable: true }));
            return;
          }
          const errors = piErrors(body);
          if (errors && !(body && typeof body === 'object' && 'Items' in body)) {
            reject(new HistorianError('HISTORIAN.PI_ERROR', `${what} answered ${status} with errors: ${errors}`, { status, retryable: false }));
            return;
          }
          resolve(body);
        });
      };
      const req = isHttps ? httpsRequest(u, { ...options, ...(this.ca ? { ca: this.ca } : {}), rejectUnauthorized: this.settings.tls.rejectUnauthorized }, onResponse) : httpRequest(u, options, onResponse);
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.settings.requestTimeout} ms`)));
      req.on('error', (err) => reject(new HistorianError('HISTORIAN.UNREACHABLE', `${what}: ${err.message}`, { retryable: true }, { cause: err })));
      req.end();
    });
  }

  /**
   * What a 401/403 means for this source's settings. Servers behind OAuth
   * often answer a refused bearer token with an empty body and say why only
   * in `WWW-Authenticate` (`error="invalid_token", error_description="..."`).
   */
  private refusedHint(res: IncomingMessage): string {
    const challenge = res.headers['www-authenticate'];
    const why = challenge ? ` (server: ${String(challenge).slice(0, 300)})` : '';
    switch (this.settings.auth.type) {
      case 'none':
        return `PI Web API wants credentials and none are configured: set auth${why}`;
      case 'basic':
        return `the credentials of user "${this.settings.auth.username}" (auth.type basic) were refused${why}`;
      case 'bearer':
        return `the bearer token (auth.type bearer) was refused; it may be wrong or expired${why}`;
    }
  }
}

/** PI Web API's error messages (`{"Errors":["..."]}`), joined, or undefined. */
export function piErrors(body: unknown): string | undefined {
  if (!body || typeof body !== 'object' || !('Errors' in body)) return undefined;
  const e = (body as { Errors: unknown }).Errors;
  if (!Array.isArray(e) || e.length === 0) return undefined;
  return e.map((x) => String(x)).join('; ');
}

function snippet(text: string): string {
  const flat = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.slice(0, 200));
}
