import { ErpSyncError, messageOf } from '../errors';

/** How requests to the SAP system authenticate. */
export type SapAuthSettings =
  | { type: 'none' }
  | { type: 'basic'; username: string; password: string }
  | {
      type: 'oauth2';
      /** Token endpoint of the client-credentials grant (`https://<subdomain>.authentication.<region>.hana.ondemand.com/oauth/token`). */
      tokenUrl: string;
      clientId: string;
      clientSecret: string;
      /** Space-separated scopes, if the authorisation server wants them. */
      scope?: string;
      /** `basic`: client id and secret in an Authorization header (RFC 6749 2.3.1, the default); `body`: as form fields. */
      clientAuthentication: 'basic' | 'body';
    };

/** Supplies the Authorization header of each request. */
export interface AuthProvider {
  /** The header value, or undefined for none. May fetch a token. */
  authorization(signal?: AbortSignal): Promise<string | undefined>;
  /** Forgets a cached token after a 401; true when a fresh credential can be had (so the request is worth repeating). */
  invalidate(): boolean;
}

/** No authentication (a local test server, a gateway that authenticates by network). */
class NoAuth implements AuthProvider {
  authorization(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }
  invalidate(): boolean {
    return false;
  }
}

/** HTTP basic authentication with a technical user. */
class BasicAuth implements AuthProvider {
  private readonly header: string;
  constructor(username: string, password: string) {
    this.header = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }
  authorization(): Promise<string | undefined> {
    return Promise.resolve(this.header);
  }
  invalidate(): boolean {
    // A password does not get better by sending it again.
    return false;
  }
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

/**
 * OAuth 2.0 client credentials (RFC 6749 4.4). The token is cached until shortly
 * before `expires_in` runs out; concurrent requests share one token request; a
 * 401 from the service drops the token so the next request fetches a new one
 * (a revoked or rotated key is not waited out).
 */
export class OAuthClientCredentials implements AuthProvider {
  private token: CachedToken | undefined;
  private pending: Promise<CachedToken> | undefined;
  /** Token requests made so far (for metrics and tests). */
  tokenRequests = 0;

  constructor(
    private readonly settings: Extract<SapAuthSettings, { type: 'oauth2' }>,
    private readonly options: { timeoutMs: number; now?: () => number },
  ) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  async authorization(signal?: AbortSignal): Promise<string | undefined> {
    if (this.token && this.token.expiresAt > this.now()) return `Bearer ${this.token.value}`;
    this.pending ??= this.fetchToken(signal).finally(() => {
      this.pending = undefined;
    });
    this.token = await this.pending;
    return `Bearer ${this.token.value}`;
  }

  invalidate(): boolean {
    this.token = undefined;
    return true;
  }

  private async fetchToken(signal?: AbortSignal): Promise<CachedToken> {
    const s = this.settings;
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (s.scope) body.set('scope', s.scope);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (s.clientAuthentication === 'basic') {
      // RFC 6749 2.3.1: id and secret are form-urlencoded before they go into the basic header.
      headers['authorization'] = `Basic ${Buffer.from(`${encodeURIComponent(s.clientId)}:${encodeURIComponent(s.clientSecret)}`).toString('base64')}`;
    } else {
      body.set('client_id', s.clientId);
      body.set('client_secret', s.clientSecret);
    }
    this.tokenRequests++;
    const started = this.now();
    let res: Response;
    try {
      const timeout = AbortSignal.timeout(this.options.timeoutMs);
      res = await fetch(s.tokenUrl, { method: 'POST', headers, body, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new ErpSyncError('ERP.AUTH_FAILED', `token endpoint ${s.tokenUrl} unreachable: ${messageOf((err as { cause?: unknown }).cause ?? err)}`, { retryable: true }, { cause: err });
    }
    const raw = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      // reported below with the status
    }
    if (!res.ok || typeof json['access_token'] !== 'string') {
      const reason = typeof json['error'] === 'string' ? `${json['error']}${typeof json['error_description'] === 'string' ? `: ${json['error_description']}` : ''}` : raw.slice(0, 200);
      throw new ErpSyncError('ERP.AUTH_FAILED', `token endpoint ${s.tokenUrl} answered HTTP ${res.status}: ${reason}`, { status: res.status, retryable: res.status >= 500 || res.status === 429 });
    }
    const expiresIn = typeof json['expires_in'] === 'number' ? json['expires_in'] : Number(json['expires_in'] ?? 3600);
    const lifetimeMs = (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600) * 1000;
    // Renew a little early so a token does not expire between the check and the request.
    const margin = Math.min(60_000, lifetimeMs / 10);
    return { value: json['access_token'], expiresAt: started + lifetimeMs - margin };
  }
}

/** The provider for the settings. */
export function createAuthProvider(settings: SapAuthSettings, options: { timeoutMs: number }): AuthProvider {
  switch (settings.type) {
    case 'none':
      return new NoAuth();
    case 'basic':
      return new BasicAuth(settings.username, settings.password);
    case 'oauth2':
      return new OAuthClientCredentials(settings, options);
  }
}
