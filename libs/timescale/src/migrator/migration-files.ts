import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TimescaleError } from '../errors';
import type { TimescaleLicense } from '../timescale-detection';

/** Which file of a migration ran: the one common file, or the variant for the detected licence. */
export type MigrationEdition = 'common' | TimescaleLicense;

/** One SQL file of a migration. */
export interface MigrationFile {
  fileName: string;
  edition: MigrationEdition;
  sql: string;
  /** sha256 (hex) of the file, line endings normalised. */
  checksum: string;
}

/** One numbered migration: either a common file or both licence variants. */
export interface MigrationSource {
  version: number;
  name: string;
  files: Partial<Record<MigrationEdition, MigrationFile>>;
}

/** `NNNN_name.sql`, `NNNN_name.apache.sql`, `NNNN_name.timescale.sql`; names in lower snake case. */
export const MIGRATION_FILE_PATTERN = /^(\d{4})_([a-z0-9]+(?:_[a-z0-9]+)*)(?:\.(apache|timescale))?\.sql$/;

/** The parts of a migration file name, or undefined when it does not follow the pattern. */
export function parseMigrationFileName(fileName: string): { version: number; name: string; edition: MigrationEdition } | undefined {
  const m = MIGRATION_FILE_PATTERN.exec(fileName);
  if (!m) return undefined;
  return { version: Number(m[1]), name: m[2]!, edition: (m[3] as TimescaleLicense | undefined) ?? 'common' };
}

/** sha256 of a migration's text; CRLF counts as LF so a Windows checkout does not look like an edit. */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n'), 'utf8').digest('hex');
}

/**
 * Groups files into numbered migrations and checks the layout: every `.sql` file follows
 * the pattern, a version has one name, each has a common file or both variants (never a
 * mix, never one variant alone), and versions run 1, 2, 3 ... without holes.
 */
export function buildMigrationSet(files: readonly { fileName: string; sql: string }[]): MigrationSource[] {
  const byVersion = new Map<number, MigrationSource>();
  for (const { fileName, sql } of files) {
    if (!fileName.endsWith('.sql')) continue;
    const parsed = parseMigrationFileName(fileName);
    if (!parsed) {
      throw new TimescaleError('MIGRATIONS.BAD_FILE_NAME', `${fileName} is not named NNNN_name.sql, NNNN_name.apache.sql or NNNN_name.timescale.sql (name in lower snake case)`);
    }
    const source = byVersion.get(parsed.version) ?? { version: parsed.version, name: parsed.name, files: {} };
    if (source.name !== parsed.name) {
      throw new TimescaleError('MIGRATIONS.DUPLICATE_VERSION', `version ${parsed.version} is used by both ${source.name} and ${parsed.name}`);
    }
    source.files[parsed.edition] = { fileName, edition: parsed.edition, sql, checksum: migrationChecksum(sql) };
    byVersion.set(parsed.version, source);
  }
  const sources = [...byVersion.values()].sort((a, b) => a.version - b.version);
  sources.forEach((source, i) => {
    const { common, apache, timescale } = source.files;
    if (common ? apache || timescale : !(apache && timescale)) {
      const present = Object.values(source.files).map((f) => f.fileName).join(', ');
      throw new TimescaleError('MIGRATIONS.VARIANT_MISMATCH', `migration ${label(source)} must have either one common file or both .apache.sql and .timescale.sql variants; found ${present}`);
    }
    if (source.version !== i + 1) {
      throw new TimescaleError('MIGRATIONS.VERSION_GAP', `migration ${label(source)} follows version ${i}; versions must run 1, 2, 3 ... without holes`);
    }
  });
  return sources;
}

/** The file of `source` to run under `license`: the common one, else the licence's variant. */
export function selectMigrationFile(source: MigrationSource, license: TimescaleLicense): MigrationFile {
  // buildMigrationSet guarantees one of the two exists.
  return (source.files.common ?? source.files[license])!;
}

/** Reads and checks the migrations in `dir` (see buildMigrationSet). */
export function readMigrationDir(dir: string): MigrationSource[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new TimescaleError('MIGRATIONS.DIR_NOT_FOUND', `the migrations folder ${dir} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  const files = names.filter((n) => n.endsWith('.sql')).map((fileName) => ({ fileName, sql: readFileSync(join(dir, fileName), 'utf8') }));
  return buildMigrationSet(files);
}

/** How a migration is named in messages and logs: `0004_retention`. */
export function label(source: { version: number; name: string }): string {
  return `${String(source.version).padStart(4, '0')}_${source.name}`;
}
