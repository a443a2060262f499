import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../common/api-error';
import type { ApiSection } from '../config';
import { verifyHs256 } from './jwt';
import { principalFrom, type Principal } from './principal';

/** Request headers the authenticator reads. */
export interface AuthHeaders {
  authorization?: string | undefined;
  'x-api-key'?: string | string[] | undefined;
}

/** Authenticates a request from its headers: `Authorization: Bearer <HS256 JWT>` or `X-API-Key: <key>`. */
export class Authenticator {
  private readonly keys: { name: string; hash: Buffer; role: unknown; sites: string[] }[];

  constructor(private readonly auth: ApiSection['auth'], private readonly now: () => number = Date.now) {
    this.keys = Object.entries(auth.apiKeys).map(([name, k]) => ({ name, hash: Buffer.from(k.sha256, 'hex'), role: k.role, sites: k.sites }));
  }

  /** The caller, or an AUTH.* error (401). */
  authenticate(headers: AuthHeaders): Principal {
    const apiKey = headers['x-api-key'];
    if (apiKey !== undefined) return this.byKey(Array.isArray(apiKey) ? (apiKey[0] ?? '') : apiKey);
    const authorization = headers.authorization;
    if (authorization === undefined || authorization === '') throw new ApiError('AUTH.MISSING_CREDENTIALS', 'send Authorization: Bearer <token> or X-API-Key: <key>');
    const m = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!m) throw new ApiError('AUTH.INVALID_TOKEN', 'the Authorization header must be "Bearer <token>"');
    if (this.auth.jwtSecret === undefined) throw new ApiError('AUTH.INVALID_TOKEN', 'bearer tokens are not enabled on this server (no api.auth.jwtSecret)');
    const claims = verifyHs256(m[1]!, {
      secret: this.auth.jwtSecret,
      nowMs: this.now(),
      clockSkewMs: this.auth.clockSkewMs,
      ...(this.auth.jwtIssuer !== undefined ? { issuer: this.auth.jwtIssuer } : {}),
      ...(this.auth.jwtAudience !== undefined ? { audience: this.auth.jwtAudience } : {}),
    });
    return principalFrom(`jwt:${claims.sub}`, claims.role, claims.sites);
  }

  private byKey(key: string): Principal {
    const hash = createHash('sha256').update(key, 'utf8').digest();
    // Compare with every key (constant time each) so the time taken does not tell which prefix matched.
    let found: (typeof this.keys)[number] | undefined;
    for (const k of this.keys) if (timingSafeEqual(k.hash, hash)) found = k;
    if (!found) throw new ApiError('AUTH.UNKNOWN_API_KEY', 'the API key is not known');
    return principalFrom(`key:${found.name}`, found.role, found.sites);
  }
}
