import { describe, expect, it } from 'vitest';
import { signHs256, verifyHs256 } from './jwt';

const SECRET = 'unit-test-secret-0123456789abcdef';
const NOW_S = 1_700_000_000;
const check = { secret: SECRET, nowMs: NOW_S * 1000, clockSkewMs: 30_000 };
const code = (f: () => unknown): string => {
  try {
    f();
    return 'no error';
  } catch (err) {
    return (err as { code: string }).code;
  }
};

describe('verifyHs256', () => {
  it('returns the claims of a valid token', () => {
    const t = signHs256({ sub: 'alice', role: 'viewer', sites: ['hh'], exp: NOW_S + 60, nbf: NOW_S - 60 }, SECRET);
    expect(verifyHs256(t, check)).toMatchObject({ sub: 'alice', role: 'viewer', sites: ['hh'], exp: NOW_S + 60 });
  });

  it('refuses a token signed with another secret', () => {
    expect(code(() => verifyHs256(signHs256({ sub: 'a', exp: NOW_S + 60 }, 'x'.repeat(32)), check))).toBe('AUTH.INVALID_TOKEN');
  });

  it('refuses a payload changed after signing', () => {
    const [h, , s] = signHs256({ sub: 'a', role: 'viewer', exp: NOW_S + 60 }, SECRET).split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'a', role: 'admin', exp: NOW_S + 60 })).toString('base64url');
    expect(code(() => verifyHs256(`${h}.${forged}.${s}`, check))).toBe('AUTH.INVALID_TOKEN');
  });

  it('honours exp and nbf with the clock skew', () => {
    expect(code(() => verifyHs256(signHs256({ sub: 'a', exp: NOW_S - 10 }, SECRET), check))).toBe('no error');
    expect(code(() => verifyHs256(signHs256({ sub: 'a', exp: NOW_S - 31 }, SECRET), check))).toBe('AUTH.TOKEN_EXPIRED');
    expect(code(() => verifyHs256(signHs256({ sub: 'a', exp: NOW_S + 600, nbf: NOW_S + 31 }, SECRET), check))).toBe('AUTH.TOKEN_NOT_YET_VALID');
    expect(code(() => verifyHs256(signHs256({ sub: 'a' }, SECRET), check))).toBe('AUTH.INVALID_TOKEN');
  });

  it('refuses other algorithms, including none', () => {
    const payload = Buffer.from(JSON.stringify({ sub: 'a', exp: NOW_S + 60 })).toString('base64url');
    for (const alg of ['none', 'HS512', 'RS256']) {
      const header = Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url');
      expect(code(() => verifyHs256(`${header}.${payload}.`, check))).toBe('AUTH.INVALID_TOKEN');
    }
  });

  it('checks issuer and audience when configured', () => {
    const t = signHs256({ sub: 'a', exp: NOW_S + 60, iss: 'idp', aud: ['weir', 'other'] }, SECRET);
    expect(code(() => verifyHs256(t, { ...check, issuer: 'idp', audience: 'weir' }))).toBe('no error');
    expect(code(() => verifyHs256(t, { ...check, issuer: 'evil' }))).toBe('AUTH.INVALID_TOKEN');
    expect(code(() => verifyHs256(t, { ...check, audience: 'grafana' }))).toBe('AUTH.INVALID_TOKEN');
  });
});
