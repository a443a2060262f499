import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultMigrationsDir } from '../package-root';
import { buildMigrationSet, migrationChecksum, parseMigrationFileName, readMigrationDir, selectMigrationFile } from './migration-files';

const file = (fileName: string, sql = `-- ${fileName}\nSELECT 1;\n`): { fileName: string; sql: string } => ({ fileName, sql });

describe('parseMigrationFileName', () => {
  it('reads a common file', () => {
    expect(parseMigrationFileName('0001_series_and_telemetry.sql')).toEqual({ version: 1, name: 'series_and_telemetry', edition: 'common' });
  });

  it('reads licence variants', () => {
    expect(parseMigrationFileName('0012_retention.apache.sql')).toEqual({ version: 12, name: 'retention', edition: 'apache' });
    expect(parseMigrationFileName('0012_retention.timescale.sql')?.edition).toBe('timescale');
  });

  it.each(['1_x.sql', '0001-x.sql', '0001_X.sql', '0001_x.enterprise.sql', '0001_.sql', '0001_x__y.sql'])('refuses %s', (name) => {
    expect(parseMigrationFileName(name)).toBeUndefined();
  });
});

describe('migrationChecksum', () => {
  it('is the sha256 of the text', () => {
    // printf 'SELECT 1;\n' | sha256sum
    expect(migrationChecksum('SELECT 1;\n')).toBe('b4e0497804e46e0a0b0b8c31975b062152d551bac49c3c2e80932567b4085dcd');
  });

  it('ignores CRLF versus LF', () => {
    expect(migrationChecksum('a\r\nb\r\n')).toBe(migrationChecksum('a\nb\n'));
  });

  it('changes with any edit', () => {
    expect(migrationChecksum('SELECT 1;\n')).not.toBe(migrationChecksum('SELECT 1; \n'));
  });
});

describe('buildMigrationSet', () => {
  it('orders migrations by version and groups variants', () => {
    const set = buildMigrationSet([file('0002_b.apache.sql'), file('0001_a.sql'), file('0002_b.timescale.sql'), file('README.md')]);
    expect(set.map((s) => [s.version, s.name, Object.keys(s.files).sort()])).toEqual([
      [1, 'a', ['common']],
      [2, 'b', ['apache', 'timescale']],
    ]);
  });

  it('refuses a .sql file with a bad name', () => {
    expect(() => buildMigrationSet([file('0001_a.sql'), file('2_b.sql')])).toThrow(/MIGRATIONS.BAD_FILE_NAME: 2_b.sql/);
  });

  it('refuses two names for one version', () => {
    expect(() => buildMigrationSet([file('0001_a.sql'), file('0001_b.sql')])).toThrow(/MIGRATIONS.DUPLICATE_VERSION: version 1 is used by both a and b/);
  });

  it('refuses a single variant', () => {
    expect(() => buildMigrationSet([file('0001_a.apache.sql')])).toThrow(/MIGRATIONS.VARIANT_MISMATCH: .*found 0001_a.apache.sql/);
  });

  it('refuses a common file mixed with a variant', () => {
    expect(() => buildMigrationSet([file('0001_a.sql'), file('0001_a.timescale.sql')])).toThrow(/MIGRATIONS.VARIANT_MISMATCH/);
  });

  it('refuses a hole in the versions', () => {
    expect(() => buildMigrationSet([file('0001_a.sql'), file('0003_c.sql')])).toThrow(/MIGRATIONS.VERSION_GAP: migration 0003_c follows version 1/);
  });

  it('refuses a set that does not start at 1', () => {
    expect(() => buildMigrationSet([file('0002_b.sql')])).toThrow(/MIGRATIONS.VERSION_GAP/);
  });
});

describe('selectMigrationFile', () => {
  const [common, variants] = buildMigrationSet([file('0001_a.sql'), file('0002_b.apache.sql'), file('0002_b.timescale.sql')]);

  it('takes the common file under either licence', () => {
    expect(selectMigrationFile(common!, 'apache').fileName).toBe('0001_a.sql');
    expect(selectMigrationFile(common!, 'timescale').fileName).toBe('0001_a.sql');
  });

  it('takes the variant of the licence', () => {
    expect(selectMigrationFile(variants!, 'apache').fileName).toBe('0002_b.apache.sql');
    expect(selectMigrationFile(variants!, 'timescale').fileName).toBe('0002_b.timescale.sql');
  });
});

describe('readMigrationDir', () => {
  it('reads a folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-migrations-'));
    writeFileSync(join(dir, '0001_a.sql'), 'SELECT 1;\n');
    const [a] = readMigrationDir(dir);
    expect(a?.files.common?.sql).toBe('SELECT 1;\n');
  });

  it('names a folder that does not exist', () => {
    expect(() => readMigrationDir('/nonexistent/migrations')).toThrow(/MIGRATIONS.DIR_NOT_FOUND: the migrations folder \/nonexistent\/migrations/);
  });
});

describe('the shipped migrations', () => {
  const sources = readMigrationDir(defaultMigrationsDir());
  const tablesOf = (sql: string): string[] => [...sql.matchAll(/CREATE (?:TABLE|MATERIALIZED VIEW) (\w+)/g)].map((m) => m[1]!).sort();

  it('form a valid set', () => {
    expect(sources.length).toBeGreaterThanOrEqual(4);
  });

  it('create the same tables under both licences', () => {
    for (const source of sources) {
      expect(tablesOf(selectMigrationFile(source, 'apache').sql), source.name).toEqual(tablesOf(selectMigrationFile(source, 'timescale').sql));
    }
  });

  it('use no policies or compression in the Apache edition', () => {
    for (const source of sources) {
      expect(selectMigrationFile(source, 'apache').sql).not.toMatch(/add_\w+_policy|timescaledb\.compress|continuous/i);
    }
  });
});
