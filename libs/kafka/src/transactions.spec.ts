import { describe, expect, it } from 'vitest';
import { nextOffset } from './consumer-runner';
import { isFencedError, splitByBytes } from './transactions';

describe('isFencedError', () => {
  it('recognises the broker answers to a fenced producer, also as the cause of another error', () => {
    expect(isFencedError(Object.assign(new Error('old epoch'), { type: 'INVALID_PRODUCER_EPOCH' }))).toBe(true);
    expect(isFencedError(new Error('wrapped', { cause: Object.assign(new Error('fenced'), { type: 'PRODUCER_FENCED' }) }))).toBe(true);
  });

  it('does not take other errors for fencing', () => {
    expect(isFencedError(Object.assign(new Error('x'), { type: 'CONCURRENT_TRANSACTIONS' }))).toBe(false);
    expect(isFencedError('INVALID_PRODUCER_EPOCH')).toBe(false);
  });
});

describe('nextOffset', () => {
  it('adds one without losing 64-bit precision', () => {
    expect(nextOffset('41')).toBe('42');
    expect(nextOffset('9007199254740993')).toBe('9007199254740994');
  });
});

describe('splitByBytes', () => {
  const rec = (value: string) => ({ topic: 't', message: { key: 'k', value: Buffer.from(value) } });

  it('keeps every record, in order, in groups within the byte limit (24 B framing + key + value each)', () => {
    // Each record is estimated at 24 + 1 + 75 = 100 bytes.
    const records = Array.from({ length: 7 }, (_, i) => rec(String(i).repeat(75)));
    const parts = splitByBytes(records, 250);
    expect(parts.map((p) => p.length)).toEqual([2, 2, 2, 1]);
    expect(parts.flat()).toEqual(records);
  });

  it('sends a record larger than the limit alone, so the broker can say why it refuses it', () => {
    const parts = splitByBytes([rec('x'), rec('y'.repeat(500)), rec('z')], 100);
    expect(parts.map((p) => p.length)).toEqual([1, 1, 1]);
    expect(splitByBytes([], 100)).toEqual([]);
  });
});
