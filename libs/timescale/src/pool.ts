import type { HealthCheck, Logger } from '@weir/observability';
import { Pool, type PoolClient, type PoolConfig } from 'pg';
import { type DatabaseSettings, toPoolConfig } from './database-settings';

/** Something that runs queries: a pool, or one client checked out of it. */
export type Queryable = Pick<Pool, 'query'>;

function errorFields(err: Error): Record<string, unknown> {
  // Only code and message: pg error details can quote row values, and we log ids, not payloads.
  return { code: (err as Error & { code?: string }).code, message: err.message };
}

/**
 * A pg pool for `settings` that logs connection errors instead of crashing. A connection
 * can fail while no query is running on it (server restart, network cut, idle timeout on a
 * proxy); node-postgres then emits `error`, which without a listener ends the process.
 * `extra.options` are server settings for every connection (`-c jit=off`).
 */
export function createPool(settings: DatabaseSettings, logger: Logger, extra: Pick<PoolConfig, 'options'> = {}): Pool {
  const pool = new Pool({ ...toPoolConfig(settings), ...extra });
  pool.on('error', (err) => {
    logger.warn({ err: errorFields(err) }, 'idle database connection failed; the pool will open a new one');
  });
  // pg-pool listens on idle clients only; a checked-out client that loses its connection
  // between queries would emit an unhandled `error`. Its holder sees the failure on its next query.
  const onCheckedOutError = (err: Error): void => {
    logger.warn({ err: errorFields(err) }, 'checked-out database connection failed');
  };
  pool.on('acquire', (client: PoolClient) => {
    client.on('error', onCheckedOutError);
  });
  pool.on('release', (_err: Error | undefined, client: PoolClient) => {
    client.removeListener('error', onCheckedOutError);
  });
  return pool;
}

/** A readiness check that runs `select 1` through the pool, reporting the pool's size. */
export function databaseHealthCheck(pool: Pool, name = 'database'): HealthCheck {
  return {
    name,
    kind: 'readiness',
    check: async () => {
      try {
        await pool.query('select 1');
        return { ok: true, detail: `${pool.totalCount} connection(s), ${pool.idleCount} idle, ${pool.waitingCount} waiting` };
      } catch (err) {
        const code = (err as { code?: string }).code;
        return { ok: false, detail: `select 1 failed: ${code ? `${code} ` : ''}${(err as Error).message}` };
      }
    },
  };
}
