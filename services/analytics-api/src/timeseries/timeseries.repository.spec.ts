import { describe, expect, it } from 'vitest';
import { parseBucketWidth } from './bucket-width';
import { bucketedStatement, isWholeMinutes, type BucketedQuery } from './timeseries.repository';

const base: BucketedQuery = {
  seriesIds: [1, 2],
  from: new Date('2024-03-04T00:00:00Z'),
  to: new Date('2024-03-05T00:00:00Z'),
  bucket: parseBucketWidth('1m')!.interval,
  timeZone: 'UTC',
  quality: 'good',
  fill: 'none',
  windowed: false,
};

describe('isWholeMinutes', () => {
  it('takes minutes, hours, days and seconds in multiples of 60', () => {
    for (const w of ['1m', '15m', '1h', '1d', '60s', '120s']) expect(isWholeMinutes(parseBucketWidth(w)!.interval), w).toBe(true);
    for (const w of ['30s', '90s', '1s']) expect(isWholeMinutes(parseBucketWidth(w)!.interval), w).toBe(false);
  });
});

describe('bucketedStatement', () => {
  it('reads the rollup for Good samples in whole-minute buckets, with the whole minutes of the range as $7 and $8', () => {
    const s = bucketedStatement({ ...base, from: new Date('2024-03-04T00:00:30Z'), to: new Date('2024-03-04T02:59:45Z') }, 'rollup');
    expect(s.rollup).toBe(true);
    expect(s.text).toContain('telemetry_1m');
    expect(s.values.slice(6)).toEqual([new Date('2024-03-04T00:01:00Z'), new Date('2024-03-04T02:59:00Z')]);
  });

  it('reads raw rows when the rollup cannot answer exactly, or is not the sink-maintained table', () => {
    const raw = (q: Partial<BucketedQuery>, source: 'rollup' | 'raw' = 'rollup') => bucketedStatement({ ...base, ...q }, source);
    for (const s of [
      raw({}, 'raw'),
      raw({ quality: 'uncertain' }),
      raw({ quality: 'any' }),
      raw({ windowed: true }),
      raw({ bucket: parseBucketWidth('30s')!.interval }),
      raw({ from: new Date('2024-03-04T00:00:10Z'), to: new Date('2024-03-04T00:00:50Z') }),
      raw({ from: new Date('1971-06-01T00:00:00Z'), to: new Date('1971-06-02T00:00:00Z') }),
    ]) {
      expect(s.rollup).toBe(false);
      expect(s.text).not.toContain('telemetry_1m');
      expect(s.values).toHaveLength(6);
    }
  });

  it('puts no request value into the SQL text', () => {
    const s = bucketedStatement({ ...base, timeZone: "Europe/Berlin'; DROP TABLE telemetry; --", seriesIds: [42] }, 'rollup');
    expect(s.text).not.toContain('DROP');
    expect(s.text).not.toContain('42');
  });
});
