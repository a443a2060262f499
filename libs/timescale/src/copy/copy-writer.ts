import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { TimescaleError } from '../errors';
import { quoteColumns, quoteIdent, quoteTable, type TableName } from '../identifiers';
import { encodeCopyRow } from './copy-encoding';

/** Rows for a COPY: each row an array of values in the order of `columns`. */
export type CopyRowSource = Iterable<readonly unknown[]> | AsyncIterable<readonly unknown[]>;

/** What `copyRows` writes where. */
export interface CopyRowsOptions {
  table: TableName;
  /** Columns in the order of each row's values; columns left out get their defaults. */
  columns: readonly string[];
  rows: CopyRowSource;
  /** Bytes (roughly) gathered before one write to the connection; default 64 KiB. */
  chunkSize?: number;
}

/** What `copyUpsert` writes where. */
export interface CopyUpsertOptions extends CopyRowsOptions {
  /** Columns of the unique index that decides a duplicate; any unique violation when left out. */
  conflictColumns?: readonly string[];
}

const DEFAULT_CHUNK = 64 * 1024;

function isAsyncIterable(source: CopyRowSource): source is AsyncIterable<readonly unknown[]> {
  return typeof (source as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';
}

async function* encodeChunks(rows: CopyRowSource, width: number, chunkSize: number): AsyncGenerator<string> {
  let chunk = '';
  let index = 0;
  const add = (row: readonly unknown[]): void => {
    if (row.length !== width) throw new TimescaleError('COPY.ROW_LENGTH', `row ${index} has ${row.length} value(s) for ${width} column(s)`);
    chunk += encodeCopyRow(row);
    index++;
  };
  // A sync source is walked without `for await`, which would cost a promise per row.
  if (isAsyncIterable(rows)) {
    for await (const row of rows) {
      add(row);
      if (chunk.length >= chunkSize) {
        yield chunk;
        chunk = '';
      }
    }
  } else {
    for (const row of rows) {
      add(row);
      if (chunk.length >= chunkSize) {
        yield chunk;
        chunk = '';
      }
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * Streams rows into a table with `COPY ... FROM STDIN` (text format) and returns the
 * number of rows the server stored. Chunks wait for the connection to drain, so a large
 * or slow source never piles up in memory. A failure (bad value, constraint) aborts the
 * whole COPY, and the client stays usable; inside a transaction, that transaction is aborted.
 */
export async function copyRows(client: ClientBase, options: CopyRowsOptions): Promise<number> {
  const sql = `COPY ${quoteTable(options.table)} (${quoteColumns(options.columns)}) FROM STDIN`;
  const stream = client.query(copyFrom(sql));
  await pipeline(Readable.from(encodeChunks(options.rows, options.columns.length, options.chunkSize ?? DEFAULT_CHUNK)), stream);
  return stream.rowCount;
}

/**
 * Writes rows idempotently: COPY into a temporary staging table, then `INSERT ... SELECT
 * ... ON CONFLICT DO NOTHING` into the table. Returns how many rows were new; duplicates,
 * whether already stored or repeated within `rows`, are skipped. Run it inside the
 * caller's transaction to make the write atomic with other work (offsets, context).
 */
export async function copyUpsert(client: ClientBase, options: CopyUpsertOptions): Promise<number> {
  const target = quoteTable(options.table);
  const columns = quoteColumns(options.columns);
  const conflict = options.conflictColumns && options.conflictColumns.length > 0 ? ` (${quoteColumns(options.conflictColumns)})` : '';
  // A fresh name per call: the caller may or may not be in a transaction, so ON COMMIT DROP
  // cannot be relied on; the table is dropped explicitly below.
  const stage = `weir_stage_${randomBytes(6).toString('hex')}`;
  // Only the written columns, without constraints or generated columns: the target checks them on insert.
  await client.query(`CREATE TEMPORARY TABLE ${quoteIdent(stage)} AS SELECT ${columns} FROM ${target} WITH NO DATA`);
  const drop = `DROP TABLE IF EXISTS pg_temp.${quoteIdent(stage)}`;
  let inserted: number;
  try {
    await copyRows(client, { ...options, table: { schema: 'pg_temp', name: stage } });
    const result = await client.query(`INSERT INTO ${target} (${columns}) SELECT ${columns} FROM pg_temp.${quoteIdent(stage)} ON CONFLICT${conflict} DO NOTHING`);
    inserted = result.rowCount ?? 0;
  } catch (err) {
    // In an aborted transaction the drop fails too, and the rollback removes the table anyway;
    // the first error is the one worth reporting.
    await client.query(drop).catch(() => undefined);
    throw err;
  }
  await client.query(drop);
  return inserted;
}
