import { createLogger } from '@weir/observability';
import { freePort, waitFor } from '@weir/testing';
import { createPool, databaseHealthCheck, databaseSettingsSchema } from '@weir/timescale';
import { Client, type Pool } from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';

const pools: Pool[] = [];
const lines: Record<string, unknown>[] = [];
const logger = createLogger({ service: 'timescale-test', level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });

function pool(settings: Record<string, unknown>): Pool {
  const p = createPool(databaseSettingsSchema.parse(settings), logger);
  pools.push(p);
  return p;
}

async function terminate(applicationName: string): Promise<number> {
  const admin = new Client({ connectionString: inject('databaseUrl') });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ n: string }>('select count(pg_terminate_backend(pid)) as n from pg_stat_activity where application_name = $1', [applicationName]);
    return Number(rows[0]!.n);
  } finally {
    await admin.end();
  }
}

describe('createPool', () => {
  it('applies application name and statement timeout to every connection', async () => {
    const p = pool({ url: inject('databaseUrl'), applicationName: 'weir-pool-settings', statementTimeoutMs: '1500ms' });
    const { rows } = await p.query<{ app: string; timeout: string }>(`select current_setting('application_name') as app, current_setting('statement_timeout') as timeout`);
    expect(rows[0]).toEqual({ app: 'weir-pool-settings', timeout: '1500ms' });
    await expect(p.query('select pg_sleep(3)')).rejects.toMatchObject({ code: '57014' });
  });

  it('reports ready through the health check', async () => {
    const p = pool({ url: inject('databaseUrl') });
    const result = await databaseHealthCheck(p).check();
    expect(result.ok).toBe(true);
    expect(result.detail).toMatch(/^1 connection\(s\), 1 idle, 0 waiting$/);
  });

  it('logs an idle connection killed by the server instead of crashing, and recovers', async () => {
    const p = pool({ url: inject('databaseUrl'), applicationName: 'weir-pool-idle' });
    await p.query('select 1');
    expect(await terminate('weir-pool-idle')).toBe(1);
    await waitFor(() => lines.find((l) => l['msg'] === 'idle database connection failed; the pool will open a new one'), { what: 'the idle error log line' });
    expect((await p.query('select 2 as two')).rows).toEqual([{ two: 2 }]);
  });

  it('logs a checked-out connection killed by the server instead of crashing', async () => {
    const p = pool({ url: inject('databaseUrl'), applicationName: 'weir-pool-held' });
    const client = await p.connect();
    expect(await terminate('weir-pool-held')).toBe(1);
    const line = await waitFor(() => lines.find((l) => l['msg'] === 'checked-out database connection failed'), { what: 'the checked-out error log line' });
    expect(line['level']).toBe('warn');
    client.release(true);
    expect((await p.query('select 3 as three')).rows).toEqual([{ three: 3 }]);
  });

  it('fails the health check, not the process, when the database cannot be reached', async () => {
    const p = pool({ url: `postgresql://weir:weir@127.0.0.1:${await freePort()}/weir`, connectionTimeoutMs: 2000 });
    const result = await databaseHealthCheck(p).check();
    expect(result).toEqual({ ok: false, detail: expect.stringMatching(/^select 1 failed: ECONNREFUSED/) as string });
  });
});

afterAll(async () => {
  await Promise.allSettled(pools.map((p) => p.end()));
});
