import { describe, expect, it } from 'vitest';
import { chunks, groupByTopic, recordBytes, takeBatch as take } from './batching';

const takeBatch = (sizes: number[], start: number, maxMessages: number, maxBytes: number) => take(sizes.map((bytes) => ({ bytes })), start, maxMessages, maxBytes);

describe('takeBatch', () => {
  it('stops at the message limit', () => {
    expect(takeBatch([10, 10, 10, 10, 10], 0, 3, 1000)).toBe(3);
  });

  it('stops before the byte limit is passed', () => {
    // 40 + 40 = 80 fits in 100; a third would make 120.
    expect(takeBatch([40, 40, 40], 0, 100, 100)).toBe(2);
  });

  it('takes exactly up to the byte limit', () => {
    expect(takeBatch([50, 50, 1], 0, 100, 100)).toBe(2);
  });

  it('always takes at least one item, even one larger than the byte limit', () => {
    expect(takeBatch([5000, 10], 0, 100, 100)).toBe(1);
  });

  it('starts at the queue head index', () => {
    expect(takeBatch([1000, 1000, 10, 10, 10], 2, 100, 25)).toBe(2);
  });

  it('takes nothing from an empty queue', () => {
    expect(takeBatch([], 0, 10, 10)).toBe(0);
  });
});

describe('groupByTopic', () => {
  it('groups per topic and keeps order within each topic', () => {
    const m = (v: string) => ({ value: v });
    const grouped = groupByTopic([
      { topic: 'a', message: m('a1') },
      { topic: 'b', message: m('b1') },
      { topic: 'a', message: m('a2') },
      { topic: 'a', message: m('a3') },
      { topic: 'b', message: m('b2') },
    ]);
    expect(grouped).toEqual([
      { topic: 'a', messages: [m('a1'), m('a2'), m('a3')] },
      { topic: 'b', messages: [m('b1'), m('b2')] },
    ]);
  });
});

describe('recordBytes', () => {
  it('counts key, value and headers in bytes plus a fixed overhead', () => {
    // overhead 24 + key 3 + value 5 ('héllo' is 6 bytes in UTF-8) + header 'h' (1 + 8 + 2)
    expect(recordBytes('abc', 'héllo', { h: 'xy' })).toBe(24 + 3 + 6 + 11);
  });

  it('counts a tombstone as overhead and key only', () => {
    expect(recordBytes(Buffer.from('k'), null)).toBe(25);
  });
});

describe('chunks', () => {
  it('splits into consecutive chunks with a short last one', () => {
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('keeps everything in one chunk when the size is Infinity', () => {
    expect(chunks([1, 2, 3], Infinity)).toEqual([[1, 2, 3]]);
  });

  it('gives no chunks for no items', () => {
    expect(chunks([], 10)).toEqual([]);
  });
});
