import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, Registry, type Logger } from '@weir/observability';
import { Migrator } from '@weir/timescale';
import { createTestDatabase, type TestDatabase } from '@weir/testing';
import { Client, Pool } from 'pg';
import { signHs256 } from '../src/auth/jwt';
import { analyticsSettingsSchema, type AnalyticsSettings } from '../src/config';
import { startAnalyticsApi, type RunningAnalyticsApi } from '../src/index';

/** The HS256 secret of the test server. */
export const JWT_SECRET = 'test-secret-of-at-least-thirty-two-characters';

/** API keys of the test server by name: the key, its role and sites. */
export const KEYS = {
  admin: { key: 'k-admin-all-sites', role: 'admin', sites: '*' },
  hhViewer: { key: 'k-viewer-hh', role: 'viewer', sites: 'hh' },
  hhAnalyst: { key: 'k-analyst-hh', role: 'analyst', sites: 'hh' },
  mucViewer: { key: 'k-viewer-muc', role: 'viewer', sites: 'muc' },
  soc: { key: 'k-soc-all', role: 'soc', sites: '*' },
} as const;

/** Test log level: quiet unless WEIR_TEST_LOG_LEVEL says otherwise. */
export function testLogger(): Logger {
  return createLogger({ service: 'analytics-int-test', level: process.env['WEIR_TEST_LOG_LEVEL'] ?? 'error' });
}

/** Settings for a test server on a free loopback port with the test keys and token secret. */
export function testSettings(databaseUrl: string, api: Record<string, unknown> = {}): AnalyticsSettings {
  const apiKeys = Object.fromEntries(
    Object.entries(KEYS).map(([name, k]) => [name, { sha256: createHash('sha256').update(k.key).digest('hex'), role: k.role, sites: k.sites }]),
  );
  return analyticsSettingsSchema.parse({
    database: { url: databaseUrl, poolMax: 4 },
    observability: { logLevel: process.env['WEIR_TEST_LOG_LEVEL'] ?? 'error', opsPort: 0 },
    api: { host: '127.0.0.1', port: 0, auth: { jwtSecret: JWT_SECRET, apiKeys }, ...api },
  });
}

/** A database with the migrations applied and, unless told otherwise, the hand-computable scenario loaded. */
export async function scenarioDatabase(serverUrl: string, options: { scenario?: boolean } = {}): Promise<TestDatabase> {
  const db = await createTestDatabase(serverUrl, 'weir_analytics');
  const pool = new Pool({ connectionString: db.url, max: 1 });
  try {
    await new Migrator({ pool, logger: testLogger() }).up();
  } finally {
    await pool.end();
  }
  if (options.scenario !== false) await runSql(db.url, readFileSync(join(__dirname, 'scenario.sql'), 'utf8'));
  return db;
}

/** Runs SQL text on a database. */
export async function runSql(url: string, sql: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Rows of one query on a database. */
export async function queryRows<R extends Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** Starts the API in this process. */
export function startTestApi(settings: AnalyticsSettings): Promise<RunningAnalyticsApi> {
  return startAnalyticsApi(settings, { logger: testLogger(), registry: new Registry() });
}

/** A response: status, headers and parsed JSON body. */
export interface TestResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** GET with an API key (`key`), a bearer token (`token`) or neither. */
export async function get(api: RunningAnalyticsApi, path: string, auth: { key?: string; token?: string } = {}): Promise<TestResponse> {
  const headers: Record<string, string> = {};
  if (auth.key !== undefined) headers['X-API-Key'] = auth.key;
  if (auth.token !== undefined) headers['Authorization'] = `Bearer ${auth.token}`;
  const res = await fetch(`${api.url}${path}`, { headers });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: res.status, headers: res.headers, body };
}

/** A token for the test server. */
export function token(claims: Record<string, unknown>, secret = JWT_SECRET): string {
  const now = Math.floor(Date.now() / 1000);
  return signHs256({ exp: now + 600, ...claims }, secret);
}

/** A query string from values (encoded). */
export function qs(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}
