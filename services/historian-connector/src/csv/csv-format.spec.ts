import { describe, expect, it } from 'vitest';
import { numberParser, qualityParser, splitLine, timeParser } from './csv-format';

describe('splitLine', () => {
  it('splits plain and quoted fields', () => {
    expect(splitLine('a,b,,c', ',')).toEqual(['a', 'b', '', 'c']);
    expect(splitLine('"a,b","say ""hi""",c', ',')).toEqual(['a,b', 'say "hi"', 'c']);
    expect(splitLine('x;"1,5"', ';')).toEqual(['x', '1,5']);
  });
  it('names an unterminated quote', () => {
    expect(splitLine('a,"b', ',')).toBe('unterminated quote in field 2');
    expect(splitLine('"a"x,b', ',')).toBe('text after the closing quote of field 1');
  });
});

describe('timeParser', () => {
  it('reads ISO times with and without offset (zone applies without)', () => {
    const berlin = timeParser('iso', 'Europe/Berlin');
    expect(berlin('2026-01-15 10:00:00')).toBe(Date.UTC(2026, 0, 15, 9));
    expect(berlin('2026-07-15T10:00:00')).toBe(Date.UTC(2026, 6, 15, 8));
    expect(berlin('2026-07-15T10:00:00Z')).toBe(Date.UTC(2026, 6, 15, 10));
    expect(berlin('2026-07-15T10:00:00.25-02:00')).toBe(Date.UTC(2026, 6, 15, 12, 0, 0, 250));
    expect(berlin('2026-02-30 10:00:00')).toBeUndefined();
    expect(berlin('yesterday')).toBeUndefined();
  });
  it('handles the hours around a clock change in the declared zone', () => {
    const berlin = timeParser('iso', 'Europe/Berlin');
    // 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
    expect(berlin('2026-03-29 01:59:59')).toBe(Date.UTC(2026, 2, 29, 0, 59, 59));
    expect(berlin('2026-03-29 03:00:00')).toBe(Date.UTC(2026, 2, 29, 1, 0, 0));
    expect(berlin('2026-10-25 01:30:00')).toBe(Date.UTC(2026, 9, 24, 23, 30));
    expect(berlin('2026-10-25 03:30:00')).toBe(Date.UTC(2026, 9, 25, 2, 30));
  });
  it('reads patterns and epochs', () => {
    expect(timeParser('DD.MM.YYYY HH:mm:ss', 'UTC')('15.01.2026 10:00:01')).toBe(Date.UTC(2026, 0, 15, 10, 0, 1));
    expect(timeParser('YYYY/MM/DD HH:mm:ss.SSS', 'America/New_York')('2026/01/15 10:00:01.500')).toBe(Date.UTC(2026, 0, 15, 15, 0, 1, 500));
    expect(timeParser('epoch-s', 'UTC')('1768471200')).toBe(1768471200000);
    expect(timeParser('epoch-ms', 'UTC')('1768471200123')).toBe(1768471200123);
    expect(timeParser('epoch-s', 'UTC')('12a')).toBeUndefined();
  });
});

describe('numberParser', () => {
  it('honours the declared separators', () => {
    expect(numberParser(',', '.')('1.234,5')).toBe(1234.5);
    expect(numberParser('.', ',')('1,234.5')).toBe(1234.5);
    expect(numberParser('.', '')('-1.5e3')).toBe(-1500);
    expect(numberParser('.', '')('1,5')).toBeUndefined();
    expect(numberParser('.', '')('')).toBeUndefined();
    expect(numberParser('.', '')('abc')).toBeUndefined();
  });
});

describe('qualityParser', () => {
  const q = qualityParser({ 'SUBST-MANUAL': 0x40910000 });
  it('maps texts, OPC DA bytes and OPC UA codes', () => {
    expect(q('')).toBe(0);
    expect(q('Good')).toBe(0);
    expect(q('192')).toBe(0);
    expect(q('216')).toBe(0);
    expect(q('64')).toBe(0x40000000);
    expect(q('0')).toBe(0x80000000);
    expect(q('Questionable')).toBe(0x40000000);
    expect(q('0x80310000')).toBe(0x80310000);
    expect(q('2150825984')).toBe(0x80330000);
    expect(q('subst-manual')).toBe(0x40910000);
    expect(q('maybe')).toBeUndefined();
  });
});
