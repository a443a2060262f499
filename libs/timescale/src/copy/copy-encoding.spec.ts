import { describe, expect, it } from 'vitest';
import { isTimescaleError } from '../errors';
import { COPY_NULL, encodeCopyRow, encodeCopyValue, escapeCopyText, pgArray } from './copy-encoding';

describe('escapeCopyText', () => {
  it('leaves plain and unicode text unchanged', () => {
    expect(escapeCopyText('Line 1 / Füller – 速度 😀')).toBe('Line 1 / Füller – 速度 😀');
  });

  it('escapes backslash, tab, newline and carriage return', () => {
    expect(escapeCopyText('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
  });

  it('keeps a literal \\N and \\. distinct from NULL and end of data', () => {
    expect(escapeCopyText('\\N')).toBe('\\\\N');
    expect(escapeCopyText('\\.')).toBe('\\\\.');
  });

  it('refuses NUL, which PostgreSQL text cannot hold', () => {
    expect(() => escapeCopyText('a\0b')).toThrow(expect.objectContaining({ code: 'COPY.UNSUPPORTED_VALUE' }) as Error);
  });
});

describe('encodeCopyValue', () => {
  it('writes null and undefined as \\N', () => {
    expect(encodeCopyValue(null)).toBe(COPY_NULL);
    expect(encodeCopyValue(undefined)).toBe('\\N');
  });

  it('writes the empty string as an empty field, not NULL', () => {
    expect(encodeCopyValue('')).toBe('');
  });

  it('writes numbers so a float8 reads back the same value', () => {
    expect(encodeCopyValue(0.1)).toBe('0.1');
    expect(encodeCopyValue(-0)).toBe('-0');
    expect(encodeCopyValue(1e-7)).toBe('1e-7');
    expect(encodeCopyValue(Number.NaN)).toBe('NaN');
    expect(encodeCopyValue(Number.NEGATIVE_INFINITY)).toBe('-Infinity');
  });

  it('writes bigints beyond 2^53 exactly', () => {
    expect(encodeCopyValue(9007199254740993n)).toBe('9007199254740993');
  });

  it('writes booleans as t and f', () => {
    expect(encodeCopyValue(true)).toBe('t');
    expect(encodeCopyValue(false)).toBe('f');
  });

  it('writes a Date as ISO 8601 UTC', () => {
    expect(encodeCopyValue(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)))).toBe('2024-01-02T03:04:05.006Z');
  });

  it('refuses an invalid Date', () => {
    expect(() => encodeCopyValue(new Date(Number.NaN))).toThrow(/COPY.UNSUPPORTED_VALUE/);
  });

  it('writes objects and plain arrays as JSON, escaping its backslashes', () => {
    expect(encodeCopyValue({ a: 'x\ny', b: [1, null] })).toBe('{"a":"x\\\\ny","b":[1,null]}');
  });

  it('refuses an object JSON cannot represent', () => {
    let caught: unknown;
    try {
      encodeCopyValue({ n: 1n });
    } catch (err) {
      caught = err;
    }
    expect(isTimescaleError(caught, 'COPY.UNSUPPORTED_VALUE')).toBe(true);
  });

  it('writes bytes as bytea hex with an escaped backslash', () => {
    expect(encodeCopyValue(Buffer.from([0, 255, 16]))).toBe('\\\\x00ff10');
  });

  it('writes pgArray as an array literal with quoted, escaped elements and NULL', () => {
    expect(encodeCopyValue(pgArray(['T0836', 'a "b"', 'c\\d', null, 'x,y']))).toBe('{"T0836","a \\\\"b\\\\"","c\\\\\\\\d",NULL,"x,y"}');
  });

  it('refuses functions and symbols', () => {
    expect(() => encodeCopyValue(() => 1)).toThrow(/COPY.UNSUPPORTED_VALUE: a function/);
    expect(() => encodeCopyValue(Symbol('s'))).toThrow(/a symbol/);
  });
});

describe('encodeCopyRow', () => {
  it('joins fields with tabs and ends with a newline', () => {
    expect(encodeCopyRow(['2024-01-01T00:00:00Z', 7, null, 'a\tb'])).toBe('2024-01-01T00:00:00Z\t7\t\\N\ta\\tb\n');
  });
});
