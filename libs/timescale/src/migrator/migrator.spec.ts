import { describe, expect, it } from 'vitest';
import { featuresFor, type TimescaleDetection } from '../timescale-detection';
import { assertTimescaleAvailable } from './migrator';

const plainPostgres: TimescaleDetection = {
  serverVersion: '17.12',
  serverVersionNum: 170012,
  extension: { available: false, defaultVersion: null, installedVersion: null, schema: null },
  license: null,
  features: featuresFor(null),
};

describe('assertTimescaleAvailable', () => {
  it('refuses a server without the extension and says what to install', () => {
    expect(() => assertTimescaleAvailable(plainPostgres)).toThrow(/^MIGRATIONS.NO_TIMESCALEDB: the timescaledb extension is not available on this server \(PostgreSQL 17.12\); install TimescaleDB .*shared_preload_libraries/);
  });

  it('accepts a server that has it, installed or not', () => {
    expect(() => assertTimescaleAvailable({ ...plainPostgres, extension: { ...plainPostgres.extension, available: true, defaultVersion: '2.19.3' } })).not.toThrow();
  });
});
