import { describe, expect, it } from 'vitest';
import { nextOffset } from './consumer-runner';
import { defineTopic } from '@weir/contracts';
import { z } from 'zod';
import { isFencedError, OutputCollector, splitByBytes } from './transactions';

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

describe('OutputCollector', () => {
  const a = defineTopic({ name: 'test.a.v1', description: 'a', schema: z.object({ id: z.string() }), key: (m) => m.id });
  const b = defineTopic({ name: 'test.b.v1', description: 'b', schema: z.object({ id: z.string() }), key: (m) => m.id });

  it('collects output into requests within the byte limit, grouped by topic, in the order sent, a too large record alone', () => {
    // Each record: 24 B framing + 1 B key + value.
    const out = new OutputCollector('p.', 250);
    out.sendBytes(a, '1', Buffer.alloc(75));
    out.sendBytes(b, '2', Buffer.alloc(75));
    out.sendBytes(a, '3', Buffer.alloc(75));
    out.sendBytes(a, '4', Buffer.alloc(500));
    out.send(b, { id: '5' });
    out.sendTrusted(a, { id: '6' }, { json: '{"id":"6"}' });
    const { requests, count } = out.drain();
    expect(count).toBe(6);
    const keys = requests.map((r) => r.map((t) => `${t.topic}:${t.messages.map((m) => String(m.key)).join(',')}`));
    expect(keys).toEqual([['p.test.a.v1:1', 'p.test.b.v1:2'], ['p.test.a.v1:3'], ['p.test.a.v1:4'], ['p.test.b.v1:5', 'p.test.a.v1:6']]);
    expect(out.drain()).toEqual({ requests: [], count: 0 });
  });
});
