import { describe, expect, it } from 'vitest';
import { buildFrame, decodeFrame, encodeState, FRAME_OVERHEAD_BYTES, frameEntryCount, sealFrame, type MessageEntry, type StateEntry } from './frame';
import { isSpoolError } from './spool-error';

const T = Date.UTC(2026, 10, 25, 8, 0, 0);

function sampleFrame(baseLsn: number): Buffer {
  const frame = buildFrame(
    [encodeState('next:plc-1', 42), encodeState('gone', undefined)],
    [
      { topic: 'p.ot.telemetry.raw.v1', key: 'plc-1|ns=3;s=A', value: Buffer.from('{"seq":40}') },
      { topic: 'p.ot.telemetry.raw.v1', key: 'plc-1|ns=3;s=B', value: Buffer.from('{"seq":41}'), headers: { 'correlation-id': 'c-1', bin: Buffer.from([0, 255]) } },
    ],
    T,
  );
  sealFrame(frame, baseLsn);
  return frame;
}

describe('spool frame', () => {
  it('round-trips state updates and messages with their LSNs, headers and append time', () => {
    // Above 2^32 so both halves of the LSN are exercised.
    const base = 2 ** 32 + 5;
    const frame = sampleFrame(base);
    expect(frameEntryCount(frame)).toBe(4);
    const r = decodeFrame(frame, 0, base);
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.frame.baseLsn).toBe(base);
    expect(r.frame.appendedAt).toBe(T);
    expect(r.frame.bytes).toBe(frame.length);
    const [s1, s2, m1, m2] = r.frame.entries as [StateEntry, StateEntry, MessageEntry, MessageEntry];
    expect([s1.lsn, s2.lsn, m1.lsn, m2.lsn]).toEqual([base, base + 1, base + 2, base + 3]);
    expect(s1).toMatchObject({ kind: 'state', key: 'next:plc-1', value: 42 });
    expect(s2).toMatchObject({ kind: 'state', key: 'gone', value: undefined });
    expect(m1).toMatchObject({ kind: 'message', topic: 'p.ot.telemetry.raw.v1', key: 'plc-1|ns=3;s=A' });
    expect(m1.value.toString()).toBe('{"seq":40}');
    expect(m1.headers).toBeUndefined();
    expect(m2.headers!['correlation-id']!.toString()).toBe('c-1');
    expect([...m2.headers!['bin']!]).toEqual([0, 255]);
    // Entry sizes add up to the frame, so buffered-bytes accounting matches the file.
    expect(r.frame.entries.reduce((s, e) => s + e.bytes, 0)).toBe(frame.length);
    // 24 B Kafka record overhead + key + value (+ header names and values).
    expect(m1.wireBytes).toBe(24 + 14 + 10);
  });

  it('reports every strict prefix of a frame as incomplete (a torn write), never as a frame', () => {
    const frame = sampleFrame(1);
    for (let cut = 0; cut < frame.length; cut++) {
      const r = decodeFrame(frame.subarray(0, cut), 0, 1);
      expect(r.status, `cut at ${cut}`).toBe('incomplete');
    }
  });

  it('detects any single flipped byte after the length field', () => {
    const frame = sampleFrame(7);
    for (let i = 4; i < frame.length; i++) {
      const damaged = Buffer.from(frame);
      damaged[i] = damaged[i]! ^ 0x5a;
      expect(decodeFrame(damaged, 0, 7).status, `byte ${i}`).toBe('corrupt');
    }
  });

  it('treats a damaged length as damage or an unfinished frame, never as a frame', () => {
    const frame = sampleFrame(7);
    for (const length of [0, 3, frame.length - 9, frame.length - 7, 0xffffffff]) {
      const damaged = Buffer.from(frame);
      damaged.writeUInt32LE(length, 0);
      expect(decodeFrame(damaged, 0, 7).status).not.toBe('ok');
    }
  });

  it('refuses a frame whose LSN is not the expected one', () => {
    const r = decodeFrame(sampleFrame(9), 0, 10);
    expect(r).toEqual({ status: 'corrupt', reason: 'frame LSN 9 where 10 was expected' });
  });

  it('decodes frames back to back from an offset', () => {
    const a = sampleFrame(1);
    const b = sampleFrame(5);
    const both = Buffer.concat([a, b]);
    const second = decodeFrame(both, a.length, 5);
    expect(second.status === 'ok' && second.frame.entries.map((e) => e.lsn)).toEqual([5, 6, 7, 8]);
  });

  it('has a fixed overhead of 32 bytes', () => {
    const empty = buildFrame([encodeState('k', 1)], [], T);
    expect(empty.length).toBe(FRAME_OVERHEAD_BYTES + 1 + 2 + 1 + 4 + 1);
  });

  it('refuses state that cannot be stored', () => {
    for (const [key, value] of [
      ['', 1],
      ['k', Number.NaN],
      ['k', new Date() as unknown as number],
      ['x'.repeat(1025), 1],
    ] as const) {
      let err: unknown;
      try {
        encodeState(key, value);
      } catch (e) {
        err = e;
      }
      expect(isSpoolError(err, 'SPOOL.INVALID_STATE'), String(key).slice(0, 10)).toBe(true);
    }
  });

  it('keeps a copy of a state value, not the caller object', () => {
    const value = { seq: 1 };
    const encoded = encodeState('k', value);
    value.seq = 2;
    expect(encoded.value).toEqual({ seq: 1 });
  });
});
