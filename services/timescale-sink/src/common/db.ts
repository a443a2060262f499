import type { Pool, PoolClient } from 'pg';

// SQLSTATE classes that mean the connection itself is gone or unusable: 08 connection exception,
// 57P01-57P03 admin shutdown / crash shutdown / cannot connect now.
const BROKEN_CONNECTION = /^(08|57P0[1-3])/;

/** True when `err` means the connection it came from should be closed rather than reused. */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return BROKEN_CONNECTION.test(code) || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE';
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|connection timeout|not queryable|Client has encountered a connection error/i.test(message);
}

/** True for a unique violation (SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === '23505';
}

/**
 * Runs `fn` in one transaction on one connection and commits; rolls back and
 * rethrows on any error. A connection that failed is destroyed instead of being
 * returned to the pool, so the next batch after a database restart starts on a
 * fresh one.
 */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failure: unknown;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    failure = err;
    if (!isConnectionError(err)) await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release(failure !== undefined && isConnectionError(failure) ? (failure as Error) : undefined);
  }
}
