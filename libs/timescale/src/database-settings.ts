import { readFileSync } from 'node:fs';
import { fields } from '@weir/config';
import type { PoolConfig } from 'pg';
import { z } from 'zod';
import { TimescaleError } from './errors';

/** Connection settings of the TimescaleDB (PostgreSQL) database, under `database` in a service's settings (`WEIR_DATABASE__*`). */
export const databaseSettingsSchema = z.object({
  /**
   * Connection URL, `postgres://user:password@host:5432/weir` (scheme `postgres` or
   * `postgresql`). Required. Query parameters such as `sslmode` are honoured and win
   * over `ssl`. The password is redacted in logs.
   */
  url: fields.url(['postgres', 'postgresql']),
  /** Most connections the pool keeps open at once. Default 10. */
  poolMax: fields.int({ min: 1, max: 1000 }).default(10),
  /**
   * Server-side limit on any one statement (`30s`, `5m` or milliseconds); the server
   * cancels a statement that runs longer. 0 turns the limit off. Default 30 s. The
   * migrator lifts it for its own session: migrations may take longer.
   */
  statementTimeoutMs: fields.durationMs().default(30_000),
  /** How long to wait for a new connection (TCP, TLS and authentication) before failing (`10s` or milliseconds). Default 10 s. */
  connectionTimeoutMs: fields.durationMs().default(10_000),
  /** Name shown in `pg_stat_activity.application_name`, so a DBA can tell the services apart. Default `weir`. */
  applicationName: z.string().min(1).max(63).default('weir'),
  /**
   * TLS: `false` (default) for none; `true` to require TLS and verify the server against
   * the system's CAs; or the path of a PEM CA bundle to verify the server against.
   */
  ssl: z.union([fields.bool(), z.string().min(1)]).default(false),
});
/** Database settings after validation. */
export type DatabaseSettings = z.infer<typeof databaseSettingsSchema>;

/** The pg pool configuration for `settings`; reads the CA file when `ssl` names one. */
export function toPoolConfig(settings: DatabaseSettings): PoolConfig {
  return {
    connectionString: settings.url,
    max: settings.poolMax,
    application_name: settings.applicationName,
    // Sent in the startup packet, so it holds from the first statement of every connection.
    statement_timeout: settings.statementTimeoutMs > 0 ? settings.statementTimeoutMs : false,
    connectionTimeoutMillis: settings.connectionTimeoutMs,
    ssl: sslConfig(settings.ssl),
  };
}

function sslConfig(ssl: DatabaseSettings['ssl']): PoolConfig['ssl'] {
  if (ssl === false) return false;
  if (ssl === true) return { rejectUnauthorized: true };
  try {
    return { rejectUnauthorized: true, ca: readFileSync(ssl, 'utf8') };
  } catch (err) {
    throw new TimescaleError('DATABASE.SSL_CA_UNREADABLE', `the CA file ${ssl} (database.ssl) cannot be read: ${(err as Error).message}`, { cause: err });
  }
}
