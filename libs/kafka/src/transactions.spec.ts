import { describe, expect, it } from 'vitest';
import { nextOffset } from './consumer-runner';
import { isFencedError } from './transactions';

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
