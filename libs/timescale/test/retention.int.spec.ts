import { createLogger } from '@weir/observability';
import { createTestDatabase, type TestDatabase } from '@weir/testing';
import { createPool, databaseSettingsSchema, enforceRetention, isTimescaleError, Migrator, readRetentionRules, setChunkTimeInterval, setRetention } from '@weir/timescale';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const logger = createLogger({ service: 'timescale-test', level: 'silent' });
const expectedLicense = (process.env['WEIR_TEST_TIMESCALE_IMAGE'] ?? '').startsWith('timescale/') ? 'timescale' : 'apache';
let db: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  db = await createTestDatabase(inject('databaseUrl'), 'weir_retention');
  pool = createPool(databaseSettingsSchema.parse({ url: db.url, poolMax: 2 }), logger);
  await new Migrator({ pool, logger }).up();
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const DAY = 86_400_000;
const count = async (sql: string): Promise<number> => Number((await pool.query<{ n: string }>(sql)).rows[0]!.n);

describe('retention', () => {
  it('has a row for every hypertable, enforced by the platform on this licence', async () => {
    const rules = await readRetentionRules(pool);
    if (expectedLicense === 'apache') {
      expect(rules.map((r) => r.hypertable)).toEqual(['alerts', 'counter_increments_1m', 'ot_events', 'security_events', 'telemetry', 'telemetry_1h', 'telemetry_1m', 'telemetry_other']);
      expect(new Set(rules.map((r) => r.enforcedBy))).toEqual(new Set(['weir']));
    } else {
      // TimescaleDB's policies enforce the rest; the sink's own counter rollup is the platform's on both licences.
      expect(rules.map((r) => [r.hypertable, r.enforcedBy])).toEqual([['counter_increments_1m', 'weir'], ['telemetry', 'timescaledb'], ['telemetry_other', 'timescaledb']]);
    }
    expect(rules.find((r) => r.hypertable === 'telemetry')?.dropAfterMs).toBe(365 * DAY);
  });

  it.runIf(expectedLicense === 'apache')('drops whole chunks past their retention and keeps younger ones', async () => {
    const now = Date.now();
    // One-day chunks: rows 400, 100 and 1 day old, then a retention of 30 days.
    await pool.query(`insert into telemetry (time, series_id, value, seq) values ($1, 1, 1, 1), ($2, 1, 2, 2), ($3, 1, 3, 3)`, [new Date(now - 400 * DAY), new Date(now - 100 * DAY), new Date(now - DAY)]);
    expect((await enforceRetention(pool)).dropped['telemetry']).toHaveLength(1);
    expect(await count('select count(*) as n from telemetry')).toBe(2);

    await setRetention(pool, 'telemetry', 30 * DAY, 'apache');
    expect((await readRetentionRules(pool)).find((r) => r.hypertable === 'telemetry')?.dropAfterMs).toBe(30 * DAY);
    const second = await enforceRetention(pool);
    expect(second.dropped['telemetry']).toHaveLength(1);
    expect(await count('select count(*) as n from telemetry')).toBe(1);
    expect((await enforceRetention(pool)).dropped['telemetry']).toEqual([]);
  });

  it('refuses a table without a retention row and a non-positive duration', async () => {
    const unknown = await setRetention(pool, 'series', DAY, 'apache').catch((e: unknown) => e);
    expect(isTimescaleError(unknown, 'RETENTION.UNKNOWN_HYPERTABLE')).toBe(true);
    const negative = await setRetention(pool, 'telemetry', -1, 'apache').catch((e: unknown) => e);
    expect(isTimescaleError(negative, 'RETENTION.BAD_SETTING')).toBe(true);
  });
});

describe('chunk time interval', () => {
  it('changes the interval of future chunks once, and says when nothing changed', async () => {
    expect(await setChunkTimeInterval(pool, 'telemetry', 6 * 3_600_000)).toBe(true);
    expect(await setChunkTimeInterval(pool, 'telemetry', 6 * 3_600_000)).toBe(false);
    const { rows } = await pool.query<{ i: string }>(`select time_interval::text as i from timescaledb_information.dimensions where hypertable_name = 'telemetry'`);
    expect(rows).toEqual([{ i: '06:00:00' }]);
    const err = await setChunkTimeInterval(pool, 'series', DAY).catch((e: unknown) => e);
    expect(isTimescaleError(err, 'RETENTION.UNKNOWN_HYPERTABLE')).toBe(true);
  });
});
