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

// The 1-minute and 1-hour rollups as the sink's rollup maintainer computes them from the raw rows (Apache licence).
const GOOD = 't.status >> 30 = 0';
const ROLLUP_MINUTES = `INSERT INTO telemetry_1m (bucket, series_id, count, sum, avg, min, max, first, last, first_time, last_time, bad_count, uncertain_count)
  SELECT time_bucket(interval '1 minute', t.time), t.series_id, count(t.value) FILTER (WHERE ${GOOD}), sum(t.value) FILTER (WHERE ${GOOD}),
         avg(t.value) FILTER (WHERE ${GOOD}), min(t.value) FILTER (WHERE ${GOOD}), max(t.value) FILTER (WHERE ${GOOD}),
         (array_agg(t.value ORDER BY t.time, t.seq) FILTER (WHERE ${GOOD} AND t.value IS NOT NULL))[1],
         (array_agg(t.value ORDER BY t.time DESC, t.seq DESC) FILTER (WHERE ${GOOD} AND t.value IS NOT NULL))[1],
         min(t.time) FILTER (WHERE ${GOOD} AND t.value IS NOT NULL), max(t.time) FILTER (WHERE ${GOOD} AND t.value IS NOT NULL),
         count(*) FILTER (WHERE t.status >> 30 >= 2), count(*) FILTER (WHERE t.status >> 30 = 1)
    FROM telemetry t WHERE t.series_id = ANY ($1::int[]) AND t.time >= $2 AND t.time < $3 GROUP BY 1, 2`;
const ROLLUP_HOURS = `INSERT INTO telemetry_1h (bucket, series_id, count, sum, avg, min, max, first, last, first_time, last_time, bad_count, uncertain_count)
  SELECT time_bucket(interval '1 hour', m.bucket), m.series_id, sum(m.count)::bigint, sum(m.sum), sum(m.sum) / nullif(sum(m.count), 0), min(m.min), max(m.max),
         (array_agg(m.first ORDER BY m.first_time) FILTER (WHERE m.first_time IS NOT NULL))[1],
         (array_agg(m.last ORDER BY m.last_time DESC) FILTER (WHERE m.last_time IS NOT NULL))[1],
         min(m.first_time), max(m.last_time), sum(m.bad_count)::bigint, sum(m.uncertain_count)::bigint
    FROM telemetry_1m m WHERE m.series_id = ANY ($1::int[]) AND m.bucket >= time_bucket(interval '1 hour', $2::timestamptz) AND m.bucket < $3 GROUP BY 1, 2`;

/**
 * Brings the rollups of `seriesIds` over [from, to) (whole minutes and hours) up to date with the raw rows and clears
 * their logged invalidations, as timescale-sink's rollup maintainer does on Apache-licensed builds; on Timescale-licensed
 * builds refreshes the continuous aggregates.
 */
export async function rollUp(url: string, seriesIds: number[], from: string, to: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const kind = await c.query<{ relkind: string }>(`SELECT relkind FROM pg_class WHERE oid = 'telemetry_1m'::regclass`);
    if (kind.rows[0]?.relkind !== 'r') {
      await c.query(`CALL refresh_continuous_aggregate('telemetry_1m', $1::timestamptz, $2::timestamptz)`, [from, to]);
      await c.query(`CALL refresh_continuous_aggregate('telemetry_1h', time_bucket(interval '1 hour', $1::timestamptz), $2::timestamptz)`, [from, to]);
      return;
    }
    await c.query('BEGIN');
    await c.query(`DELETE FROM weir_rollup_invalidations`);
    await c.query(`DELETE FROM telemetry_1m WHERE series_id = ANY ($1::int[]) AND bucket >= $2 AND bucket < $3`, [seriesIds, from, to]);
    await c.query(ROLLUP_MINUTES, [seriesIds, from, to]);
    await c.query(`DELETE FROM telemetry_1h WHERE series_id = ANY ($1::int[]) AND bucket >= time_bucket(interval '1 hour', $2::timestamptz) AND bucket < $3`, [seriesIds, from, to]);
    await c.query(ROLLUP_HOURS, [seriesIds, from, to]);
    await c.query('COMMIT');
  } finally {
    await c.end();
  }
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
