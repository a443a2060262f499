import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '@weir/observability';
import { createTestDatabase, type TestDatabase } from '@weir/testing';
import { createPool, databaseSettingsSchema, defaultMigrationsDir, detectTimescale, isTimescaleError, Migrator, type TimescaleError } from '@weir/timescale';
import { Client, type Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { schemaSnapshot } from './schema-snapshot';

const run = promisify(execFile);
const logger = createLogger({ service: 'timescale-test', level: 'silent' });
const repoRoot = resolve(__dirname, '..', '..', '..');
const pools: Pool[] = [];
const databases: TestDatabase[] = [];

async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase(inject('databaseUrl'), 'weir_migr');
  databases.push(db);
  return db;
}

function pool(url: string): Pool {
  const p = createPool(databaseSettingsSchema.parse({ url, poolMax: 2 }), logger);
  pools.push(p);
  return p;
}

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function copyOfMigrations(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-migrations-'));
  cpSync(defaultMigrationsDir(), dir, { recursive: true });
  return dir;
}

async function rejection(p: Promise<unknown>): Promise<TimescaleError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isTimescaleError(err), `expected a TimescaleError, got ${String(err)}`).toBe(true);
  return err as TimescaleError;
}

// The local image is Debian's Apache-licensed build; timescale/timescaledb images have the Timescale licence.
const expectedLicense = (process.env['WEIR_TEST_TIMESCALE_IMAGE'] ?? '').startsWith('timescale/') ? 'timescale' : 'apache';
// On the Timescale licence telemetry_1m/1h are continuous aggregates (views), on Apache plain hypertables.
const ROLLUPS = expectedLicense === 'apache' ? ['telemetry_1h', 'telemetry_1m'] : [];
const HYPERTABLES = ['alerts', 'counter_increments_1m', 'ot_events', 'security_events', 'telemetry', ...ROLLUPS, 'telemetry_other'];
const TABLES = ['alerts', 'assets', 'counter_increments_1m', 'data_gaps', 'machine_state_intervals', 'ot_events', 'production_orders', 'security_events', 'series', 'shifts', 'telemetry', ...ROLLUPS, 'telemetry_other', 'weir_retention', 'weir_rollup_invalidations', 'weir_schema_migrations', 'weir_seq_log', 'weir_seq_watermark', 'work_orders'];

describe('Migrator on a fresh database', () => {
  let db: TestDatabase;
  let firstSnapshot: string;

  beforeAll(async () => {
    db = await freshDatabase();
  });

  it('sees the extension available but not installed, and no licence yet', async () => {
    const detection = await withClient(db.url, (c) => detectTimescale(c));
    expect(detection.extension.available).toBe(true);
    expect(detection.extension.installedVersion).toBeNull();
    expect(detection.license).toBeNull();
    expect(detection.features.hypertables).toBe(false);
    expect(detection.serverVersionNum).toBeGreaterThanOrEqual(150000);
  });

  it(`creates the extension and applies every migration in order, the ${expectedLicense} edition on this build`, async () => {
    const result = await new Migrator({ pool: pool(db.url), logger }).up();
    expect(result.applied.map((a) => [a.version, a.name, a.edition])).toEqual([
      [1, 'series_and_telemetry', 'common'],
      [2, 'events', 'common'],
      [3, 'erp_context', 'common'],
      [4, 'retention', expectedLicense],
      [5, 'state_and_completeness', 'common'],
      [6, 'rollups', expectedLicense],
      [7, 'kpi', 'common'],
      [8, 'kpi_break_run_time', 'common'],
      [9, 'state_reason_intervals', 'common'],
      [10, 'counter_rollup', 'common'],
    ]);
    expect(result.version).toBe(10);
    expect(result.detection.license).toBe(expectedLicense);
  });

  it(`reports the ${expectedLicense} licence and its features once the extension is installed`, async () => {
    const detection = await withClient(db.url, (c) => detectTimescale(c));
    expect(detection.extension.installedVersion).toMatch(/^2\.\d+\.\d+/);
    expect(detection.license).toBe(expectedLicense);
    const full = expectedLicense === 'timescale';
    expect(detection.features).toEqual({ hypertables: true, continuousAggregates: full, compression: full, policies: full });
  });

  it('creates the tables and hypertables of the storage design', async () => {
    await withClient(db.url, async (c) => {
      const tables = await c.query<{ table_name: string }>(`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`);
      expect(tables.rows.map((r) => r.table_name)).toEqual(TABLES);
      const hyper = await c.query<{ hypertable_name: string }>('select hypertable_name from timescaledb_information.hypertables order by 1');
      expect(hyper.rows.map((r) => r.hypertable_name)).toEqual(HYPERTABLES);
      const uncommented = await c.query<{ relname: string }>(`select relname from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r' and obj_description(oid, 'pg_class') is null`);
      expect(uncommented.rows).toEqual([]);
    });
  });

  it('creates the kpi schema: analyst views and functions, each with a comment', async () => {
    await withClient(db.url, async (c) => {
      const objects = await c.query<{ name: string; comment: string | null }>(`
        select p.proname as name, obj_description(p.oid, 'pg_proc') as comment from pg_proc p where p.pronamespace = 'kpi'::regnamespace
        union all
        select c.relname, obj_description(c.oid, 'pg_class') from pg_class c where c.relnamespace = 'kpi'::regnamespace and c.relkind in ('r', 'v')
        order by 1`);
      expect(objects.rows.map((r) => r.name)).toEqual([
        'assets', 'completeness', 'counter_increments', 'downtime', 'downtime_pareto_7d', 'energy', 'machine_series', 'oee', 'oee_slices', 'oee_today',
        'plan_slices', 'reason_codes', 'refresh_counter_increments', 'seconds', 'series_roles',
      ]);
      expect(objects.rows.filter((r) => r.comment === null)).toEqual([]);
    });
  });

  it('records version, name, edition, sha256 and time of each migration', async () => {
    const rows = await withClient(db.url, async (c) => (await c.query<{ version: number; edition: string; checksum: string; applied_at: Date }>('select * from weir_schema_migrations order by version')).rows);
    expect(rows).toHaveLength(10);
    for (const row of rows) {
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.applied_at).toBeInstanceOf(Date);
    }
  });

  it.runIf(expectedLicense === 'apache')('takes the Apache path: no policies, retention left to the platform', async () => {
    await withClient(db.url, async (c) => {
      const jobs = await c.query(`select job_id from timescaledb_information.jobs where hypertable_schema = 'public'`);
      expect(jobs.rows).toEqual([]);
      const retention = await c.query<{ hypertable: string; drop_after: string; enforced_by: string }>(`select hypertable, drop_after::text, enforced_by from weir_retention order by 1`);
      expect(retention.rows).toEqual([
        { hypertable: 'alerts', drop_after: '1825 days', enforced_by: 'weir' },
        { hypertable: 'counter_increments_1m', drop_after: '730 days', enforced_by: 'weir' },
        { hypertable: 'ot_events', drop_after: '730 days', enforced_by: 'weir' },
        { hypertable: 'security_events', drop_after: '365 days', enforced_by: 'weir' },
        { hypertable: 'telemetry', drop_after: '365 days', enforced_by: 'weir' },
        { hypertable: 'telemetry_1h', drop_after: '3650 days', enforced_by: 'weir' },
        { hypertable: 'telemetry_1m', drop_after: '730 days', enforced_by: 'weir' },
        { hypertable: 'telemetry_other', drop_after: '365 days', enforced_by: 'weir' },
      ]);
    });
  });

  it.runIf(expectedLicense === 'timescale')('takes the Timescale path: compression and retention policies on telemetry', async () => {
    await withClient(db.url, async (c) => {
      const jobs = await c.query<{ proc_name: string; hypertable_name: string }>(`select proc_name, hypertable_name from timescaledb_information.jobs where hypertable_schema = 'public' order by 2, 1`);
      expect(jobs.rows).toEqual([
        { proc_name: 'policy_compression', hypertable_name: 'telemetry' },
        { proc_name: 'policy_retention', hypertable_name: 'telemetry' },
        { proc_name: 'policy_compression', hypertable_name: 'telemetry_other' },
        { proc_name: 'policy_retention', hypertable_name: 'telemetry_other' },
      ]);
      const retention = await c.query<{ hypertable: string; enforced_by: string }>(`select hypertable, enforced_by from weir_retention order by 1`);
      expect(retention.rows).toEqual([
        { hypertable: 'counter_increments_1m', enforced_by: 'weir' },
        { hypertable: 'telemetry', enforced_by: 'timescaledb' },
        { hypertable: 'telemetry_other', enforced_by: 'timescaledb' },
      ]);
    });
  });

  it('applies nothing on a second run and leaves the schema identical', async () => {
    firstSnapshot = await withClient(db.url, schemaSnapshot);
    const second = await new Migrator({ pool: pool(db.url), logger }).up();
    expect(second.applied).toEqual([]);
    expect(second.version).toBe(10);
    expect(await withClient(db.url, schemaSnapshot)).toBe(firstSnapshot);
  });

  it('reports every migration applied', async () => {
    const status = await new Migrator({ pool: pool(db.url), logger }).status();
    expect(status.entries.map((e) => [e.version, e.state, e.edition])).toEqual([
      [1, 'applied', 'common'],
      [2, 'applied', 'common'],
      [3, 'applied', 'common'],
      [4, 'applied', expectedLicense],
      [5, 'applied', 'common'],
      [6, 'applied', expectedLicense],
      [7, 'applied', 'common'],
      [8, 'applied', 'common'],
      [9, 'applied', 'common'],
      [10, 'applied', 'common'],
    ]);
  });

  it('stores an OPC UA Bad status as its unsigned value and rejects a negative one', async () => {
    await withClient(db.url, async (c) => {
      await c.query(`insert into telemetry (time, series_id, value, status, seq) values ('2024-01-01T00:00:00Z', 1, null, 2150891520, 1)`);
      const { rows } = await c.query<{ severity: string }>('select opcua_status_severity(status) as severity from telemetry');
      expect(rows).toEqual([{ severity: 'bad' }]);
      await expect(c.query(`insert into telemetry (time, series_id, value, status, seq) values ('2024-01-01T00:00:00Z', 1, 1, -2144075776, 2)`)).rejects.toThrow(/telemetry_status_uint32/);
    });
  });

  it('answers an "as of" question from validity intervals', async () => {
    await withClient(db.url, async (c) => {
      await c.query(`insert into production_orders (id, valid_from, valid_to, asset_id, material, planned_quantity, status, changed_at) values
        ('PO-1', '2024-01-01T06:00:00Z', '2024-01-01T14:00:00Z', 'line1', 'M-1', 100, 'completed', now()),
        ('PO-2', '2024-01-01T14:00:00Z', null, 'line1', 'M-2', 50, 'in-progress', now())`);
      const { rows } = await c.query<{ id: string }>(`select id from production_orders where asset_id = 'line1' and validity @> '2024-01-01T14:00:00Z'::timestamptz`);
      expect(rows).toEqual([{ id: 'PO-2' }]);
    });
  });
});

describe('Migrator safety', () => {
  it('lets concurrent migrators apply each migration exactly once', async () => {
    const db = await freshDatabase();
    const results = await Promise.all([1, 2, 3].map(() => new Migrator({ pool: pool(db.url), logger }).up()));
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, 10]);
    expect(results.map((r) => r.version)).toEqual([10, 10, 10]);
    const rows = await withClient(db.url, async (c) => (await c.query<{ version: number }>('select version from weir_schema_migrations order by version')).rows);
    expect(rows.map((r) => r.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('refuses to run when an applied migration file was changed, naming the file, and applies nothing', async () => {
    const db = await freshDatabase();
    const dir = copyOfMigrations();
    await new Migrator({ pool: pool(db.url), dir, logger }).up();
    appendFileSync(join(dir, '0002_events.sql'), '\n-- an innocent-looking edit\n');
    writeFileSync(join(dir, '0011_next.sql'), 'CREATE TABLE next_table (id int);\n');

    const err = await rejection(new Migrator({ pool: pool(db.url), dir, logger }).up());
    expect(err.code).toBe('MIGRATIONS.CHECKSUM_MISMATCH');
    expect(err.message).toContain('0002_events.sql');

    const status = await new Migrator({ pool: pool(db.url), dir, logger }).status();
    expect(status.entries.map((e) => e.state)).toEqual(['applied', 'changed', 'applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'pending']);
    const next = await withClient(db.url, async (c) => (await c.query<{ exists: boolean }>(`select to_regclass('next_table') is not null as exists`)).rows[0]!.exists);
    expect(next).toBe(false);
  });

  it('refuses a database that has a migration this code does not know', async () => {
    const db = await freshDatabase();
    const newer = copyOfMigrations();
    writeFileSync(join(newer, '0011_from_the_future.sql'), 'CREATE TABLE future_table (id int);\n');
    await new Migrator({ pool: pool(db.url), dir: newer, logger }).up();

    const err = await rejection(new Migrator({ pool: pool(db.url), logger }).up());
    expect(err.code).toBe('MIGRATIONS.UNKNOWN_VERSION');
    expect(err.message).toContain('0011_from_the_future');
  });

  it('rolls back a failing migration and names its file', async () => {
    const db = await freshDatabase();
    const dir = copyOfMigrations();
    writeFileSync(join(dir, '0011_broken.sql'), 'CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;\n');

    const err = await rejection(new Migrator({ pool: pool(db.url), dir, logger }).up());
    expect(err.code).toBe('MIGRATIONS.FAILED');
    expect(err.message).toMatch(/0011_broken.sql failed and was rolled back: 42P01/);
    await withClient(db.url, async (c) => {
      const { rows } = await c.query<{ half: boolean; max: number }>(`select to_regclass('half_done') is not null as half, (select max(version) from weir_schema_migrations) as max`);
      expect(rows[0]).toEqual({ half: false, max: 10 });
    });
  });
});

describe('migrate command', () => {
  const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
  const cli = join(repoRoot, 'libs', 'timescale', 'src', 'cli', 'migrate.ts');

  it('applies the migrations from the package folder, then reports them applied', async () => {
    const db = await freshDatabase();
    const env = { ...process.env, WEIR_DATABASE__URL: db.url, WEIR_LOG_LEVEL: 'info' };
    const up = await run(tsx, [cli], { cwd: repoRoot, env });
    expect(up.stdout).toContain('"msg":"applied migration"');
    expect(up.stdout).toContain(`applied 10 migration(s); schema at version 10 (${expectedLicense} licence)`);
    const status = await run(tsx, [cli, 'status'], { cwd: repoRoot, env });
    expect(status.stdout).toMatch(new RegExp(`0004 {2}retention +applied +${expectedLicense} at `));
    expect(status.stdout).not.toContain(':weir@');
  });

  it('exits with 2 and names the variable when the URL is missing', async () => {
    const env = { ...process.env, WEIR_DATABASE__URL: '' };
    const failed = await run(tsx, [cli, 'up'], { cwd: repoRoot, env }).then(
      () => undefined,
      (e: { code: number; stdout: string }) => e,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stdout).toMatch(/database.url/);
  });
});

afterAll(async () => {
  await Promise.allSettled(pools.map((p) => p.end()));
  await Promise.allSettled(databases.map((d) => d.drop()));
});
