import { describe, expect, it } from 'vitest';
import { parseBucketWidth, maxBuckets } from '../timeseries/bucket-width';
import { decodeCursor, encodeCursor } from '../timeseries/raw-cursor';
import { globToRegex, hasControlCharacter, seriesIds, instant, assetId } from './query-fields';

describe('globToRegex', () => {
  it('matches one segment with *, any depth with **, everything else literally', () => {
    const one = new RegExp(globToRegex('acme/*/line.1'));
    expect(one.test('acme/hh/line.1')).toBe(true);
    expect(one.test('acme/hh/a/line.1')).toBe(false);
    expect(one.test('acme/hh/lineX1')).toBe(false);
    const deep = new RegExp(globToRegex('acme/**/Temp*'));
    expect(deep.test('acme/hh/a1/l1/m1/M1/Temperature')).toBe(true);
    expect(globToRegex("a'(b)|c$")).toBe("^a'\\(b\\)\\|c\\$$");
  });
});

describe('request fields', () => {
  it('parses series id lists and refuses anything else', () => {
    expect(seriesIds.parse('3,1,3')).toEqual([3, 1]);
    expect(seriesIds.safeParse('1 OR 1=1').success).toBe(false);
    expect(seriesIds.safeParse('0').success).toBe(false);
  });

  it('accepts ISO timestamps with a zone only', () => {
    expect(instant.parse('2024-03-04T06:00:00.123+01:00').toISOString()).toBe('2024-03-04T05:00:00.123Z');
    expect(instant.safeParse('2024-03-04 06:00').success).toBe(false);
    expect(instant.safeParse('2024-02-30T00:00:00Z').success).toBe(true);
  });

  it('refuses control characters and wildcards in asset ids', () => {
    expect(hasControlCharacter('a\u0000b')).toBe(true);
    expect(assetId.safeParse('hh-l1').success).toBe(true);
    expect(assetId.safeParse('hh%').success).toBe(false);
    expect(assetId.safeParse('a b').success).toBe(false);
  });
});

describe('bucket widths', () => {
  it('parses widths to PostgreSQL intervals, days kept as calendar days', () => {
    expect(parseBucketWidth('15m')).toEqual({ interval: '15 minutes', ms: 900_000 });
    expect(parseBucketWidth('1d')).toEqual({ interval: '1 days', ms: 86_400_000 });
    expect(parseBucketWidth('0m')).toBeUndefined();
    expect(parseBucketWidth('1 minute; drop')).toBeUndefined();
    expect(maxBuckets(0, 3_600_000, parseBucketWidth('1m')!)).toBe(62);
  });
});

describe('raw cursors', () => {
  it('round-trips and refuses what it did not make', () => {
    const c = { time: '2024-03-04T06:00:00.000001Z', seriesId: 5, seq: '42' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(decodeCursor('not a cursor')).toBeUndefined();
    expect(decodeCursor(Buffer.from(JSON.stringify({ t: "'; drop", s: 1, q: '1' })).toString('base64url'))).toBeUndefined();
  });
});
