import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@weir/config';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { databaseSettingsSchema, toPoolConfig } from './database-settings';

const schema = z.object({ database: databaseSettingsSchema });

describe('databaseSettingsSchema', () => {
  it('needs only the URL and fills defaults', () => {
    const { config } = loadConfig(schema, { env: { WEIR_DATABASE__URL: 'postgres://weir:pw@db:5432/weir' } });
    expect(config.database).toEqual({ url: 'postgres://weir:pw@db:5432/weir', poolMax: 10, statementTimeoutMs: 30_000, connectionTimeoutMs: 10_000, applicationName: 'weir', ssl: false });
  });

  it('reads every setting from the environment', () => {
    const { config } = loadConfig(schema, {
      env: { WEIR_DATABASE__URL: 'postgresql://db/weir', WEIR_DATABASE__POOL_MAX: '4', WEIR_DATABASE__STATEMENT_TIMEOUT_MS: '5m', WEIR_DATABASE__CONNECTION_TIMEOUT_MS: '2s', WEIR_DATABASE__APPLICATION_NAME: 'sink', WEIR_DATABASE__SSL: 'yes' },
    });
    expect(config.database).toEqual({ url: 'postgresql://db/weir', poolMax: 4, statementTimeoutMs: 300_000, connectionTimeoutMs: 2000, applicationName: 'sink', ssl: true });
  });

  it('takes a CA path for ssl', () => {
    const { config } = loadConfig(schema, { env: { WEIR_DATABASE__URL: 'postgres://db/weir', WEIR_DATABASE__SSL: '/etc/ssl/db-ca.pem' } });
    expect(config.database.ssl).toBe('/etc/ssl/db-ca.pem');
  });

  it('refuses a missing URL and a non-postgres scheme, naming the variable', () => {
    expect(() => loadConfig(schema, { env: {} })).toThrow(ConfigError);
    expect(() => loadConfig(schema, { env: { WEIR_DATABASE__URL: 'mysql://db/weir' } })).toThrow(/database.url \(from env WEIR_DATABASE__URL\): must be a URL with scheme postgres or postgresql/);
  });
});

describe('toPoolConfig', () => {
  const base = databaseSettingsSchema.parse({ url: 'postgres://db/weir' });

  it('passes pool size, timeouts and application name to pg', () => {
    expect(toPoolConfig({ ...base, poolMax: 3, statementTimeoutMs: 1500, applicationName: 'x' })).toEqual({ connectionString: 'postgres://db/weir', max: 3, statement_timeout: 1500, connectionTimeoutMillis: 10_000, application_name: 'x', ssl: false });
  });

  it('turns the statement timeout off at 0', () => {
    expect(toPoolConfig({ ...base, statementTimeoutMs: 0 }).statement_timeout).toBe(false);
  });

  it('verifies the server against a CA file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-ca-'));
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\n');
    expect(toPoolConfig({ ...base, ssl: join(dir, 'ca.pem') }).ssl).toEqual({ rejectUnauthorized: true, ca: '-----BEGIN CERTIFICATE-----\n' });
  });

  it('names an unreadable CA file', () => {
    expect(() => toPoolConfig({ ...base, ssl: '/nonexistent/ca.pem' })).toThrow(/DATABASE.SSL_CA_UNREADABLE: the CA file \/nonexistent\/ca.pem/);
  });
});
