import { Injectable } from '@nestjs/common';
import { copyRows, copyUpsert } from '@weir/timescale';
import type { ClientBase } from 'pg';
import { TELEMETRY_COLUMNS, TELEMETRY_OTHER_COLUMNS } from './telemetry-rows';

/** The two sample tables. */
export type TelemetryTable = 'telemetry' | 'telemetry_other';

/** How rows are written: straight COPY into the hypertable, or staged COPY + INSERT ... ON CONFLICT DO NOTHING. */
export type WritePath = 'copy' | 'upsert';

/** What writing one table's rows did. */
export interface TableWrite {
  offered: number;
  inserted: number;
  path: WritePath;
}

const COLUMNS: Record<TelemetryTable, readonly string[]> = { telemetry: TELEMETRY_COLUMNS, telemetry_other: TELEMETRY_OTHER_COLUMNS };
const CONFLICT = ['series_id', 'time', 'seq'];

/**
 * Writes sample rows into `telemetry` / `telemetry_other`, inside the caller's
 * transaction, by one of two paths. `copy` is a plain COPY into the
 * hypertable: as fast as COPY gets, and a row already stored makes the unique
 * index (series_id, time, seq) refuse the whole statement (SQLSTATE 23505).
 * `upsert` (`copyUpsert`: staging table, then ON CONFLICT DO NOTHING) skips
 * stored rows, for replays and redeliveries. The caller picks the path and
 * retries a refused `copy` batch on `upsert`.
 */
@Injectable()
export class TelemetryRepository {
  /** Writes `rows` (in the column order of `TELEMETRY_COLUMNS` / `TELEMETRY_OTHER_COLUMNS`) into `table`. */
  async write(client: ClientBase, table: TelemetryTable, rows: readonly unknown[][], path: WritePath): Promise<TableWrite> {
    if (rows.length === 0) return { offered: 0, inserted: 0, path };
    const columns = COLUMNS[table];
    const inserted = path === 'copy' ? await copyRows(client, { table, columns, rows }) : await copyUpsert(client, { table, columns, conflictColumns: CONFLICT, rows });
    return { offered: rows.length, inserted, path };
  }
}
