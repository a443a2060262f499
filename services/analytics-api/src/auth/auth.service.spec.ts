import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { apiSectionSchema } from '../config';
import { Authenticator } from './auth.service';
import { signHs256 } from './jwt';

const SECRET = 'unit-test-secret-0123456789abcdef';
const auth = apiSectionSchema.parse({
  auth: { jwtSecret: SECRET, apiKeys: { grafana: { sha256: createHash('sha256').update('the-key').digest('hex'), role: 'viewer', sites: 'hh, muc' } } },
}).auth;
const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'no error';
  } catch (err) {
    return (err as { code: string }).code;
  }
};

describe('Authenticator', () => {
  const a = new Authenticator(auth, () => 1_700_000_000_000);

  it('knows a configured API key by its SHA-256, with role and sites', () => {
    expect(a.authenticate({ 'x-api-key': 'the-key' })).toEqual({ id: 'key:grafana', role: 'viewer', sites: ['hh', 'muc'] });
    expect(codeOf(() => a.authenticate({ 'x-api-key': 'the-key ' }))).toBe('AUTH.UNKNOWN_API_KEY');
  });

  it('turns a bearer token into a principal; * means every site', () => {
    const t = signHs256({ sub: 'soc-1', role: 'soc', sites: ['*'], exp: 1_700_000_600 }, SECRET);
    expect(a.authenticate({ authorization: `Bearer ${t}` })).toEqual({ id: 'jwt:soc-1', role: 'soc', sites: 'all' });
  });

  it('says what is missing or malformed', () => {
    expect(codeOf(() => a.authenticate({}))).toBe('AUTH.MISSING_CREDENTIALS');
    expect(codeOf(() => a.authenticate({ authorization: 'Basic dTpw' }))).toBe('AUTH.INVALID_TOKEN');
    const noSecret = new Authenticator(apiSectionSchema.parse({}).auth);
    expect(codeOf(() => noSecret.authenticate({ authorization: 'Bearer a.b.c' }))).toBe('AUTH.INVALID_TOKEN');
  });

  it('refuses a configuration whose key hash or site list is malformed, naming the problem', () => {
    const bad = apiSectionSchema.safeParse({ auth: { apiKeys: { k: { sha256: 'abc', role: 'viewer', sites: '' } } } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['auth.apiKeys.k.sha256', 'auth.apiKeys.k.sites']);
  });
});
