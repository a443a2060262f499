import { ConfigError, loadConfig, redactUrl } from '@weir/config';
import { createLogger, observabilitySettingsSchema } from '@weir/observability';
import { z } from 'zod';
import { databaseSettingsSchema } from '../database-settings';
import { TimescaleError } from '../errors';
import { Migrator } from '../migrator/migrator';
import { createPool } from '../pool';

const USAGE = `usage: migrate [up|status]
  up      create the timescaledb extension if needed and apply pending migrations (default)
  status  list migrations: applied, pending, changed or unknown
settings: WEIR_DATABASE__URL (required) and the other WEIR_DATABASE__* settings, WEIR_LOG_LEVEL`;

/** Settings of the migrate command: `database.*` and the log level. */
export const migrateSettingsSchema = z.object({
  database: databaseSettingsSchema.extend({ applicationName: z.string().min(1).max(63).default('weir-migrate') }),
  logLevel: observabilitySettingsSchema.shape.logLevel,
});

/** Runs the migrate command and returns its exit code: 0 done, 1 failed, 2 bad usage or settings. */
export async function runMigrate(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, out: NodeJS.WritableStream): Promise<number> {
  const command = argv[0] ?? 'up';
  if (command === '--help' || command === '-h' || command === 'help') {
    out.write(`${USAGE}\n`);
    return 0;
  }
  if ((command !== 'up' && command !== 'status') || argv.length > 1) {
    out.write(`${USAGE}\n`);
    return 2;
  }
  let settings: z.infer<typeof migrateSettingsSchema>;
  try {
    settings = loadConfig(migrateSettingsSchema, { env }).config;
  } catch (err) {
    if (err instanceof ConfigError) {
      out.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger({ service: 'migrate', level: settings.logLevel });
  const pool = createPool(settings.database, logger);
  try {
    const migrator = new Migrator({ pool, logger });
    if (command === 'status') {
      const { detection, entries } = await migrator.status();
      out.write(`database ${redactUrl(settings.database.url)}: PostgreSQL ${detection.serverVersion}, timescaledb ${detection.extension.installedVersion ?? 'not installed'}, licence ${detection.license ?? '-'}\n`);
      for (const e of entries) {
        const at = e.appliedAt ? ` at ${e.appliedAt.toISOString()}` : '';
        out.write(`${String(e.version).padStart(4, '0')}  ${e.name.padEnd(32)} ${e.state.padEnd(8)} ${e.edition ?? '-'}${at}\n`);
      }
      return entries.some((e) => e.state === 'changed' || e.state === 'unknown') ? 1 : 0;
    }
    const result = await migrator.up();
    out.write(`applied ${result.applied.length} migration(s); schema at version ${result.version} (${result.detection.license} licence)\n`);
    return 0;
  } catch (err) {
    const code = err instanceof TimescaleError ? err.code : ((err as { code?: string }).code ?? 'UNEXPECTED');
    logger.error({ code }, (err as Error).message);
    return 1;
  } finally {
    await pool.end();
  }
}

if (require.main === module) {
  void runMigrate(process.argv.slice(2), process.env, process.stdout).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
