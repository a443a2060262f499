import type { Queryable } from './pool';

/** The licence a TimescaleDB build runs under: `apache` (community subset) or `timescale` (all features). */
export type TimescaleLicense = 'apache' | 'timescale';

/** What the database can do, derived from the licence. */
export interface TimescaleFeatures {
  hypertables: boolean;
  continuousAggregates: boolean;
  compression: boolean;
  /** Background jobs: retention, compression and refresh policies. */
  policies: boolean;
}

/** What `detectTimescale` found on a database. */
export interface TimescaleDetection {
  /** PostgreSQL `server_version`, e.g. `17.12 (Debian 17.12-0+deb13u1)`. */
  serverVersion: string;
  /** PostgreSQL `server_version_num`, e.g. 170012. */
  serverVersionNum: number;
  extension: {
    /** The server has the timescaledb extension files. */
    available: boolean;
    /** The version `CREATE EXTENSION` would install; null when not available. */
    defaultVersion: string | null;
    /** The version installed in this database; null when not installed. */
    installedVersion: string | null;
    /** The schema the extension lives in; null when not installed. */
    schema: string | null;
  };
  /** Licence of the loaded extension; null when the extension is not installed in this database. */
  license: TimescaleLicense | null;
  features: TimescaleFeatures;
}

/** The features a licence allows; `null` (no extension) allows none. */
export function featuresFor(license: TimescaleLicense | null): TimescaleFeatures {
  const full = license === 'timescale';
  return { hypertables: license !== null, continuousAggregates: full, compression: full, policies: full };
}

/** Reads the licence from the setting's value once the extension is installed; anything but `timescale` limits features, so it counts as `apache`. */
export function licenseFrom(installedVersion: string | null, setting: string | null): TimescaleLicense | null {
  if (installedVersion === null) return null;
  return setting === 'timescale' ? 'timescale' : 'apache';
}

interface DetectionRow {
  server_version: string;
  server_version_num: string;
  default_version: string | null;
  installed_version: string | null;
  extension_schema: string | null;
  license: string | null;
}

/**
 * Detects PostgreSQL, the timescaledb extension and its licence. The licence
 * (`timescaledb.license`) is only meaningful once the extension is loaded in
 * this database, which the first statement in a database with it installed does.
 */
export async function detectTimescale(db: Queryable): Promise<TimescaleDetection> {
  const { rows } = await db.query<DetectionRow>(`
    select current_setting('server_version') as server_version,
           current_setting('server_version_num') as server_version_num,
           (select default_version from pg_available_extensions where name = 'timescaledb') as default_version,
           e.extversion as installed_version,
           n.nspname as extension_schema,
           current_setting('timescaledb.license', true) as license
      from (select 1) as one
      left join pg_extension e on e.extname = 'timescaledb'
      left join pg_namespace n on n.oid = e.extnamespace`);
  const row = rows[0]!;
  const license = licenseFrom(row.installed_version, row.license);
  return {
    serverVersion: row.server_version,
    serverVersionNum: Number(row.server_version_num),
    extension: {
      available: row.default_version !== null,
      defaultVersion: row.default_version,
      installedVersion: row.installed_version,
      schema: row.extension_schema,
    },
    license,
    features: featuresFor(license),
  };
}
