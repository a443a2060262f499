import { TimescaleError } from '../errors';

/** A value to be written as a PostgreSQL array (`text[]`, `int[]`), not as JSON; made by `pgArray`. */
export class PgArray {
  constructor(readonly items: readonly unknown[]) {}
}

/** Marks `items` for an array column; plain JS arrays are written as JSON (for jsonb columns). */
export function pgArray(items: readonly unknown[]): PgArray {
  return new PgArray(items);
}

/** What COPY's text format writes for SQL NULL. */
export const COPY_NULL = '\\N';

// COPY text format: backslash, newline, carriage return and the delimiter (tab) must be
// backslash-escaped; everything else, including other control characters, goes as is.
const COPY_SPECIAL = /[\\\n\r\t\0]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Escapes text for one field of COPY's text format; refuses NUL, which PostgreSQL text cannot hold. */
export function escapeCopyText(text: string): string {
  // Most values need no escaping; testing first avoids a replace (and a new string) per value.
  if (!COPY_SPECIAL.test(text)) return text;
  if (text.includes('\0')) throw new TimescaleError('COPY.UNSUPPORTED_VALUE', 'text contains a NUL character (U+0000), which PostgreSQL cannot store');
  return text.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]!);
}

function formatNumber(n: number): string {
  // String(-0) is "0"; keep the sign so a float column gets back exactly what was written.
  return n === 0 && 1 / n < 0 ? '-0' : String(n);
}

function formatDate(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new TimescaleError('COPY.UNSUPPORTED_VALUE', 'an invalid Date cannot be written');
  return d.toISOString();
}

// Array literal elements: double-quoted, with " and \ backslash-escaped; NULL unquoted.
function arrayElement(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (value instanceof PgArray || Array.isArray(value)) return arrayLiteral(value instanceof PgArray ? value.items : value);
  const text = typeof value === 'string' ? value : scalarText(value);
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}

function arrayLiteral(items: readonly unknown[]): string {
  return `{${items.map(arrayElement).join(',')}}`;
}

// The text form of a non-null scalar, before COPY escaping.
function scalarText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return formatNumber(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 't' : 'f';
    case 'object':
      if (value instanceof Date) return formatDate(value);
      if (value instanceof Uint8Array) return `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
      if (value instanceof PgArray) return arrayLiteral(value.items);
      try {
        return JSON.stringify(value);
      } catch (err) {
        throw new TimescaleError('COPY.UNSUPPORTED_VALUE', `an object cannot be written as JSON: ${(err as Error).message}`, { cause: err });
      }
    default:
      throw new TimescaleError('COPY.UNSUPPORTED_VALUE', `a ${typeof value} cannot be written to a column`);
  }
}

/**
 * One field in COPY text format: null/undefined -> `\N`; strings as is; numbers, bigints;
 * booleans `t`/`f`; Dates as ISO 8601 (UTC, milliseconds); Buffers/Uint8Arrays as bytea hex;
 * `pgArray(...)` as an array literal; other objects and arrays as JSON text. Then escaped.
 */
export function encodeCopyValue(value: unknown): string {
  if (value === null || value === undefined) return COPY_NULL;
  // Numbers are the bulk of telemetry and never need escaping.
  if (typeof value === 'number') return formatNumber(value);
  return escapeCopyText(scalarText(value));
}

/** One row in COPY text format: fields separated by tabs, ended by a newline. */
export function encodeCopyRow(row: readonly unknown[]): string {
  let line = row.length > 0 ? encodeCopyValue(row[0]) : '';
  for (let i = 1; i < row.length; i++) line += `\t${encodeCopyValue(row[i])}`;
  return `${line}\n`;
}
