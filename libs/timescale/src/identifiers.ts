import { TimescaleError } from './errors';

/** A table, unqualified (resolved through search_path) or with its schema. */
export type TableName = string | { schema: string; name: string };

// PostgreSQL silently truncates longer identifiers (NAMEDATALEN - 1), which could
// address a different table than the caller named.
const MAX_IDENTIFIER_BYTES = 63;

/** Quotes one identifier for SQL (`my"col` -> `"my""col"`); refuses empty, NUL-containing or over-long names. */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.includes('\0') || Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) {
    throw new TimescaleError('DATABASE.BAD_IDENTIFIER', `${JSON.stringify(name)} is not a usable identifier (1 to ${MAX_IDENTIFIER_BYTES} bytes, no NUL)`);
  }
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a table name, schema-qualified when given as `{ schema, name }`. */
export function quoteTable(table: TableName): string {
  return typeof table === 'string' ? quoteIdent(table) : `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
}

/** Quotes a list of column names, comma-separated. */
export function quoteColumns(columns: readonly string[]): string {
  return columns.map(quoteIdent).join(', ');
}
