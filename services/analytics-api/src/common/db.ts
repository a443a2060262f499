import type { Pool, PoolClient, QueryResultRow } from 'pg';

/** Runs queries for the repositories; parameters only, never values spliced into SQL text. */
export class Db {
  constructor(private readonly pool: Pool) {}

  /** One statement on any connection. */
  async query<R extends QueryResultRow>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(sql, params as unknown[])).rows;
  }

  /**
   * Statements in one read-only transaction with the session time zone set to `timeZone`, so
   * timestamptz arithmetic and generate_series step by local days across DST (set_config takes it as a parameter).
   */
  async inTimeZone<T>(timeZone: string, work: (c: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN READ ONLY');
      await client.query(`SELECT set_config('TimeZone', $1, true)`, [timeZone]);
      const out = await work(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
