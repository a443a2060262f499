import { describe, expect, it } from 'vitest';
import { kafkajsRecordEncoder, sizedRecordEncoder, type KafkajsRecord } from './kafkajs-record-encoder';

const bytes = (encoder: { buf: Buffer; offset?: number }): Buffer => (encoder as unknown as { buffer: Buffer }).buffer;

describe('sizedRecordEncoder', () => {
  const ours = sizedRecordEncoder();
  const theirs = kafkajsRecordEncoder();

  it('writes the same bytes as kafkajs for small, boundary and large records, with and without key, value and headers', () => {
    const records: KafkajsRecord[] = [];
    for (const size of [0, 1, 100, 440, 480, 490, 495, 500, 505, 511, 512, 600, 1000, 4095, 4096, 70_000]) {
      const value = Buffer.alloc(size, 0x61 + (size % 26));
      records.push({ key: 'plant|ns=2;s=Line1.M1.Temperature0', value, offsetDelta: size % 300, timestampDelta: size * 7 });
      records.push({ key: Buffer.from('k'), value: value.toString('latin1'), offsetDelta: 70_000, timestampDelta: 0 });
      records.push({ key: null, value, headers: { trace: 'abc', multi: ['x', Buffer.from('yy')], 'ü-name': 'wert-ß' } });
    }
    records.push({ key: 'tombstone', value: null });
    records.push({ key: undefined, value: undefined });
    for (const r of records) {
      expect(bytes(ours(r)).equals(bytes(theirs(r))), `record with a ${String((r.value as Buffer | string | null)?.length)}-byte value`).toBe(true);
    }
  });

  it('sizes a large record exactly instead of growing a 512-byte buffer', () => {
    const r = { key: 'k', value: Buffer.alloc(600, 1), offsetDelta: 3, timestampDelta: 5 };
    const encoder = ours(r) as unknown as { buf: Buffer; offset: number };
    expect(encoder.buf.length).toBe(encoder.offset);
    // Small records keep kafkajs's own 512-byte encoder.
    const small = ours({ key: 'k', value: Buffer.alloc(100, 1) }) as unknown as { buf: Buffer };
    expect(small.buf.length).toBe(512);
  });
});
