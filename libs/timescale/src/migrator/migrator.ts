import type { Logger } from '@weir/observability';
import type { Pool, PoolClient } from 'pg';
import { TimescaleError } from '../errors';
import { quoteIdent } from '../identifiers';
import { defaultMigrationsDir } from '../package-root';
import { detectTimescale, type TimescaleDetection, type TimescaleLicense } from '../timescale-detection';
import { label, type MigrationEdition, type MigrationSource, readMigrationDir, selectMigrationFile } from './migration-files';

/** The schema Weir's tables live in; migrations run with it first on `search_path`. */
export const WEIR_SCHEMA = 'public';

/** The table that records applied migrations. */
export const MIGRATIONS_TABLE = 'weir_schema_migrations';

// Keys of the session advisory lock that serialises migrators on one database ("weir", 1).
const LOCK_KEYS = [0x77656972, 1] as const;

/** How a Migrator finds and applies migrations. */
export interface MigratorOptions {
  /** The pool to take one connection from; the connection is closed afterwards, not returned. */
  pool: Pool;
  /** Folder of numbered SQL files; this package's `migrations/` by default. */
  dir?: string;
  logger?: Logger;
  /** How long to wait while another migrator holds the lock; default 5 minutes. */
  lockTimeoutMs?: number;
}

/** One migration applied by a run. */
export interface AppliedMigration {
  version: number;
  name: string;
  edition: MigrationEdition;
  fileName: string;
  checksum: string;
  durationMs: number;
}

/** The outcome of `Migrator.up`. */
export interface MigrationRunResult {
  /** Migrations applied by this run, in order; empty when the schema was up to date. */
  applied: AppliedMigration[];
  /** Highest version now applied. */
  version: number;
  detection: TimescaleDetection;
}

/** State of one migration, as `Migrator.status` reports it. */
export interface MigrationStatusEntry {
  version: number;
  name: string;
  /** `changed`: applied, but its file differs now; `unknown`: applied, but no file has this version. */
  state: 'applied' | 'pending' | 'changed' | 'unknown';
  /** Edition applied, or the one `up` would apply now (null if the licence is not known yet). */
  edition: MigrationEdition | null;
  fileName: string | null;
  appliedAt: Date | null;
}

/** The outcome of `Migrator.status`. */
export interface MigrationStatus {
  detection: TimescaleDetection;
  entries: MigrationStatusEntry[];
}

/** Throws `MIGRATIONS.NO_TIMESCALEDB`, saying what to install, when the server lacks the extension. */
export function assertTimescaleAvailable(detection: TimescaleDetection): void {
  if (!detection.extension.available) {
    throw new TimescaleError('MIGRATIONS.NO_TIMESCALEDB', `the timescaledb extension is not available on this server (PostgreSQL ${detection.serverVersion}); install TimescaleDB (e.g. Debian's postgresql-17-timescaledb) and preload it with shared_preload_libraries = 'timescaledb'`);
  }
}

interface AppliedRow {
  version: number;
  name: string;
  edition: MigrationEdition;
  checksum: string;
  applied_at: Date;
}

/**
 * Applies numbered SQL migrations, each in its own transaction, under a Postgres
 * advisory lock so that any number of migrators (replicas starting at once) can run
 * against one database. Refuses to run when an applied migration's file changed or the
 * database holds a version this code does not know.
 */
export class Migrator {
  private readonly dir: string;
  private readonly lockTimeoutMs: number;

  constructor(private readonly options: MigratorOptions) {
    this.dir = options.dir ?? defaultMigrationsDir();
    this.lockTimeoutMs = options.lockTimeoutMs ?? 300_000;
  }

  /** Creates the timescaledb extension if needed and applies pending migrations in order. */
  async up(): Promise<MigrationRunResult> {
    // Read the files before touching the database: a broken layout should change nothing.
    const sources = readMigrationDir(this.dir);
    const client = await this.options.pool.connect();
    try {
      // Migrations may legitimately run longer than the pool's statement timeout.
      await client.query('SET statement_timeout = 0');
      await this.lock(client);
      try {
        const detection = await this.ensureTimescale(client);
        const license = detection.license!;
        await client.query(`CREATE TABLE IF NOT EXISTS ${this.table()} (
          version      integer     PRIMARY KEY,
          name         text        NOT NULL,
          edition      text        NOT NULL CHECK (edition IN ('common', 'apache', 'timescale')),
          checksum     text        NOT NULL,
          applied_at   timestamptz NOT NULL DEFAULT now(),
          execution_ms integer     NOT NULL
        )`);
        await client.query(`COMMENT ON TABLE ${this.table()} IS 'Written by the Weir migrator (npm run migrate). One row is one applied migration: its file edition and sha256, so a later edit of the file is refused.'`);
        const applied = await this.readApplied(client);
        const pending = this.verify(sources, applied);
        const done: AppliedMigration[] = [];
        for (const source of pending) done.push(await this.apply(client, source, license, detection.extension.schema));
        const version = Math.max(0, ...applied.map((a) => a.version), ...done.map((d) => d.version));
        this.options.logger?.info({ applied: done.length, version, license }, done.length > 0 ? 'database schema migrated' : 'database schema already up to date');
        return { applied: done, version, detection };
      } finally {
        // Closing the session below releases the lock as well; unlocking first just frees it sooner.
        await client.query('SELECT pg_advisory_unlock($1, $2)', [...LOCK_KEYS]).catch(() => undefined);
      }
    } finally {
      // Closed rather than returned: the session's settings must not leak into the pool.
      client.release(true);
    }
  }

  /** Reports each known and applied migration without changing anything. */
  async status(): Promise<MigrationStatus> {
    const sources = readMigrationDir(this.dir);
    const client = await this.options.pool.connect();
    try {
      const detection = await detectTimescale(client);
      const { rows } = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [`${WEIR_SCHEMA}.${MIGRATIONS_TABLE}`]);
      const applied = rows[0]!.exists ? await this.readApplied(client) : [];
      const appliedByVersion = new Map(applied.map((a) => [a.version, a]));
      const entries: MigrationStatusEntry[] = sources.map((source) => {
        const row = appliedByVersion.get(source.version);
        if (!row) {
          const file = detection.license ? selectMigrationFile(source, detection.license) : source.files.common;
          return { version: source.version, name: source.name, state: 'pending', edition: file?.edition ?? null, fileName: file?.fileName ?? null, appliedAt: null };
        }
        const file = source.files[row.edition];
        const state = file && file.checksum === row.checksum && row.name === source.name ? 'applied' : 'changed';
        return { version: source.version, name: source.name, state, edition: row.edition, fileName: file?.fileName ?? null, appliedAt: row.applied_at };
      });
      const known = new Set(sources.map((s) => s.version));
      for (const row of applied.filter((a) => !known.has(a.version))) {
        entries.push({ version: row.version, name: row.name, state: 'unknown', edition: row.edition, fileName: null, appliedAt: row.applied_at });
      }
      entries.sort((a, b) => a.version - b.version);
      return { detection, entries };
    } finally {
      client.release();
    }
  }

  private table(): string {
    return `${quoteIdent(WEIR_SCHEMA)}.${quoteIdent(MIGRATIONS_TABLE)}`;
  }

  private async lock(client: PoolClient): Promise<void> {
    // lock_timeout bounds the wait for an advisory lock too; a hung migrator elsewhere then
    // fails this one with a clear error instead of blocking a deployment forever.
    await client.query(`SET lock_timeout = ${Math.max(1, Math.round(this.lockTimeoutMs))}`);
    try {
      await client.query('SELECT pg_advisory_lock($1, $2)', [...LOCK_KEYS]);
    } catch (err) {
      if ((err as { code?: string }).code === '55P03') {
        throw new TimescaleError('MIGRATIONS.LOCK_TIMEOUT', `another migrator held the migration lock for more than ${this.lockTimeoutMs} ms`, { cause: err });
      }
      throw err;
    } finally {
      await client.query('RESET lock_timeout');
    }
  }

  private async ensureTimescale(client: PoolClient): Promise<TimescaleDetection> {
    let detection = await detectTimescale(client);
    assertTimescaleAvailable(detection);
    if (detection.extension.installedVersion === null) {
      try {
        await client.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
      } catch (err) {
        throw new TimescaleError('MIGRATIONS.NO_TIMESCALEDB', `CREATE EXTENSION timescaledb failed: ${(err as Error).message} (it must be in shared_preload_libraries, and the user must be allowed to create it)`, { cause: err });
      }
      detection = await detectTimescale(client);
      this.options.logger?.info({ version: detection.extension.installedVersion, license: detection.license }, 'created the timescaledb extension');
    }
    return detection;
  }

  private async readApplied(client: PoolClient): Promise<AppliedRow[]> {
    const { rows } = await client.query<AppliedRow>(`SELECT version, name, edition, checksum, applied_at FROM ${this.table()} ORDER BY version`);
    return rows;
  }

  // Checks applied migrations against the files and returns the ones to apply, in order.
  private verify(sources: readonly MigrationSource[], applied: readonly AppliedRow[]): MigrationSource[] {
    const byVersion = new Map(sources.map((s) => [s.version, s]));
    for (const row of applied) {
      const source = byVersion.get(row.version);
      if (!source) {
        throw new TimescaleError('MIGRATIONS.UNKNOWN_VERSION', `the database has migration ${label(row)} applied, which is not among the ${sources.length} migration(s) in ${this.dir}; this code is older than the database schema`);
      }
      const file = source.files[row.edition];
      if (!file || file.checksum !== row.checksum || source.name !== row.name) {
        const expected = file?.fileName ?? `${label(row)}${row.edition === 'common' ? '' : `.${row.edition}`}.sql`;
        throw new TimescaleError('MIGRATIONS.CHECKSUM_MISMATCH', `${expected} was changed after it was applied (applied ${row.edition} edition, sha256 ${row.checksum.slice(0, 12)}…; file now ${file ? file.checksum.slice(0, 12) + '…' : 'missing'}); migrations are never edited after release: restore the file and add a new migration`);
      }
    }
    const done = new Set(applied.map((a) => a.version));
    const highest = Math.max(0, ...done);
    const pending = sources.filter((s) => !done.has(s.version));
    const early = pending.find((s) => s.version < highest);
    if (early) {
      throw new TimescaleError('MIGRATIONS.OUT_OF_ORDER', `migration ${label(early)} is not applied but ${highest} is; a migration was added below the released ones`);
    }
    return pending;
  }

  private async apply(client: PoolClient, source: MigrationSource, license: TimescaleLicense, extensionSchema: string | null): Promise<AppliedMigration> {
    const file = selectMigrationFile(source, license);
    const searchPath = [WEIR_SCHEMA, ...(extensionSchema && extensionSchema !== WEIR_SCHEMA ? [extensionSchema] : [])].map(quoteIdent).join(', ');
    const started = process.hrtime.bigint();
    await client.query('BEGIN');
    try {
      // SET LOCAL: the path holds for this migration only, whatever the user's default.
      await client.query(`SET LOCAL search_path = ${searchPath}`);
      await client.query(file.sql);
      const durationMs = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
      await client.query(`INSERT INTO ${this.table()} (version, name, edition, checksum, execution_ms) VALUES ($1, $2, $3, $4, $5)`, [source.version, source.name, file.edition, file.checksum, durationMs]);
      await client.query('COMMIT');
      this.options.logger?.info({ version: source.version, name: source.name, edition: file.edition, file: file.fileName, durationMs }, 'applied migration');
      return { version: source.version, name: source.name, edition: file.edition, fileName: file.fileName, checksum: file.checksum, durationMs };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      const pg = err as { code?: string; position?: string };
      throw new TimescaleError('MIGRATIONS.FAILED', `${file.fileName} failed and was rolled back: ${pg.code ? `${pg.code} ` : ''}${(err as Error).message}${pg.position ? ` (at character ${pg.position})` : ''}`, { cause: err });
    }
  }
}
