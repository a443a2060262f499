import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { FastDefaultPartitioner, murmur2 } from './partitioner';

// kafkajs's own Java-compatible murmur2 is the reference the fast one must equal.
const reference = createRequire(__filename)('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer | string) => number;
const meta = (n: number, leaderless: number[] = []) => Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: leaderless.includes(i) ? -1 : 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
const args = (message: PartitionerArgs['message'], partitions = meta(12)): PartitionerArgs => ({ topic: 't', partitionMetadata: partitions, message });

describe('murmur2', () => {
  it('equals the Java client hash on every length and on random bytes', () => {
    // Known values of the Java client (Kafka's UtilsTest#testMurmur2).
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    for (let i = 0; i < 5000; i++) {
      const data = randomBytes(i % 97);
      expect(murmur2(data)).toBe(reference(data));
    }
  });
});

describe('FastDefaultPartitioner', () => {
  it('places keyed messages exactly where kafkajs DefaultPartitioner does', () => {
    const fast = FastDefaultPartitioner();
    const slow = Partitioners.DefaultPartitioner();
    for (let i = 0; i < 3000; i++) {
      const key = `plant-${i % 700}|ns=3;s=Line${i % 7}.Machine${i}.Temperature`;
      for (const n of [1, 3, 12]) {
        const partitions = meta(n);
        expect(fast(args({ key, value: null }, partitions))).toBe(slow(args({ key, value: null }, partitions)));
        expect(fast(args({ key: Buffer.from(key), value: null }, partitions))).toBe(slow(args({ key: Buffer.from(key), value: null }, partitions)));
      }
    }
  });

  it('keeps an explicit partition and spreads unkeyed messages over partitions with a leader', () => {
    const p = FastDefaultPartitioner();
    expect(p(args({ key: 'k', partition: 7, value: null }))).toBe(7);
    const seen = new Set<number>();
    for (let i = 0; i < 100; i++) seen.add(p(args({ value: null }, meta(4, [2]))));
    expect([...seen].sort()).toEqual([0, 1, 3]);
  });
});
