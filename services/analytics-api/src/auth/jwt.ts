import { createHmac, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../common/api-error';

/** Claims of a verified token that the API uses. */
export interface VerifiedClaims {
  sub: string;
  role: unknown;
  sites: unknown;
  exp?: number;
  nbf?: number;
  iss?: unknown;
  aud?: unknown;
}

/** What a token is checked against. */
export interface JwtCheck {
  secret: string;
  nowMs: number;
  clockSkewMs: number;
  issuer?: string;
  audience?: string;
}

function decodePart(part: string, what: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) throw new ApiError('AUTH.INVALID_TOKEN', `token ${what} is not base64url`);
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new ApiError('AUTH.INVALID_TOKEN', `token ${what} is not a JSON object`);
  }
}

/**
 * Verifies an HS256 JSON Web Token (RFC 7519): the header must say HS256 (no `none`, no algorithm
 * confusion), the signature must match, `exp` (required) must be in the future and `nbf`, if present,
 * in the past, both within the clock skew; `iss`/`aud` when configured.
 */
export function verifyHs256(token: string, check: JwtCheck): VerifiedClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new ApiError('AUTH.INVALID_TOKEN', 'token must have three dot-separated parts');
  const [h, p, s] = parts as [string, string, string];
  const header = decodePart(h, 'header');
  if (header['alg'] !== 'HS256') throw new ApiError('AUTH.INVALID_TOKEN', 'token algorithm must be HS256');
  const expected = createHmac('sha256', check.secret).update(`${h}.${p}`).digest();
  if (!/^[A-Za-z0-9_-]+$/.test(s)) throw new ApiError('AUTH.INVALID_TOKEN', 'token signature is not base64url');
  const given = Buffer.from(s, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new ApiError('AUTH.INVALID_TOKEN', 'token signature does not verify');
  const claims = decodePart(p, 'payload');
  const nowS = check.nowMs / 1000;
  const skewS = check.clockSkewMs / 1000;
  const exp = claims['exp'];
  if (typeof exp !== 'number') throw new ApiError('AUTH.INVALID_TOKEN', 'token has no numeric exp claim');
  if (exp + skewS <= nowS) throw new ApiError('AUTH.TOKEN_EXPIRED', 'token has expired');
  const nbf = claims['nbf'];
  if (nbf !== undefined && typeof nbf !== 'number') throw new ApiError('AUTH.INVALID_TOKEN', 'token nbf claim is not a number');
  if (typeof nbf === 'number' && nbf - skewS > nowS) throw new ApiError('AUTH.TOKEN_NOT_YET_VALID', 'token is not valid yet (nbf)');
  if (typeof claims['sub'] !== 'string' || claims['sub'].length === 0) throw new ApiError('AUTH.INVALID_TOKEN', 'token has no sub claim');
  if (check.issuer !== undefined && claims['iss'] !== check.issuer) throw new ApiError('AUTH.INVALID_TOKEN', 'token issuer is not accepted');
  if (check.audience !== undefined) {
    const aud = claims['aud'];
    const auds = Array.isArray(aud) ? aud : [aud];
    if (!auds.includes(check.audience)) throw new ApiError('AUTH.INVALID_TOKEN', 'token audience is not accepted');
  }
  return { ...claims, sub: claims['sub'], role: claims['role'], sites: claims['sites'], exp, ...(typeof nbf === 'number' ? { nbf } : {}) };
}

/** Signs claims as an HS256 token; used by tests and by operators minting tokens. */
export function signHs256(claims: Record<string, unknown>, secret: string): string {
  const h = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const p = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const s = createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url');
  return `${h}.${p}.${s}`;
}
