import { describe, expect, it } from 'vitest';
import { quoteColumns, quoteIdent, quoteTable } from './identifiers';

describe('quoteIdent', () => {
  it('double-quotes a name', () => expect(quoteIdent('time')).toBe('"time"'));
  it('doubles embedded quotes', () => expect(quoteIdent('a"; drop table x; --')).toBe('"a""; drop table x; --"'));
  it('refuses the empty name', () => expect(() => quoteIdent('')).toThrow(/DATABASE.BAD_IDENTIFIER/));
  it('refuses a name PostgreSQL would truncate', () => expect(() => quoteIdent('x'.repeat(64))).toThrow(/DATABASE.BAD_IDENTIFIER/));
});

describe('quoteTable', () => {
  it('keeps a dotted string as one name', () => expect(quoteTable('a.b')).toBe('"a.b"'));
  it('qualifies with the schema', () => expect(quoteTable({ schema: 'pg_temp', name: 'stage' })).toBe('"pg_temp"."stage"'));
});

describe('quoteColumns', () => {
  it('quotes and joins', () => expect(quoteColumns(['time', 'series_id'])).toBe('"time", "series_id"'));
});
