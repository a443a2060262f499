import { describe, expect, it } from 'vitest';
import { decode, encode } from './codec';
import { acceptsTelemetryRaw, telemetryRawV1, telemetryRawV1Schema } from './telemetry-raw.v1';

// The fast check must never accept what the schema refuses or would change; it should accept the usual samples.
const valid = {
  sourceId: 'plant-hamburg:opc/1',
  nodeId: 'ns=3;s=Line1.Filler.Speed',
  seq: 42,
  origin: 'opcua',
  value: 412.5,
  dataType: 'Double',
  status: 0,
  sourceTime: '2026-11-30T10:00:00.123Z',
  serverTime: '2026-11-30T10:00:00.125+01:00',
  receivedTime: '2026-11-30T10:00:00.2Z',
  browsePath: 'Objects/Line1/Filler/Speed',
  heartbeat: false,
};

const oddValues: unknown[] = [
  undefined, null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 53), 0xffffffff, 0x100000000, Number.NaN, Number.POSITIVE_INFINITY, '', 'x', ' ', 'a'.repeat(201), 'a'.repeat(1001), 'a'.repeat(2001),
  'plant hamburg', 'ns=2;s=A', 'opcua', 'historian', 'file', 'mqtt', 'Double', [], [1, 'a', null], {}, { a: { b: [1] } }, { a: Number.NaN }, [Number.POSITIVE_INFINITY], new Date(0),
  '2026-11-30T10:00:00Z', '2026-11-30T10:00:00', '2026-11-30 10:00:00Z', '2026-02-29T10:00:00Z', '2024-02-29T10:00:00Z', '2026-13-01T10:00:00Z', '2026-11-31T10:00:00Z', '2026-11-30T24:00:00Z',
  '2026-11-30T10:60:00Z', '2026-11-30T10:00:60Z', '2026-11-30T10:00:00.Z', '2026-11-30T10:00:00.123456789Z', '2026-11-30T10:00:00+0100', '2026-11-30T10:00:00+01', '2026-11-30T10:00Z', '+02026-11-30T10:00:00Z',
];

function check(v: unknown): void {
  const accepted = acceptsTelemetryRaw(v);
  const parsed = telemetryRawV1Schema.safeParse(v);
  if (accepted) {
    expect(parsed.success, JSON.stringify(v)).toBe(true);
    expect(parsed.data).toEqual(v);
  }
}

describe('acceptsTelemetryRaw', () => {
  it('accepts the usual samples, with and without the optional fields', () => {
    expect(acceptsTelemetryRaw(valid)).toBe(true);
    const { dataType: _d, serverTime: _s, receivedTime: _r, browsePath: _b, heartbeat: _h, ...minimal } = valid;
    expect(acceptsTelemetryRaw(minimal)).toBe(true);
    expect(acceptsTelemetryRaw({ ...valid, value: { temperature: [1, 2, { ok: true }], label: null } })).toBe(true);
    expect(acceptsTelemetryRaw({ ...valid, status: 0x80000000, value: null })).toBe(true);
  });

  it('never accepts what the schema refuses or would change: every field set to every odd value, and missing, and extra keys', () => {
    let accepted = 0;
    let refusedBySchemaToo = 0;
    for (const key of [...Object.keys(valid), 'context', 'extra', '__proto__']) {
      for (const odd of oddValues) {
        const v: Record<string, unknown> = { ...valid, [key]: odd };
        check(v);
        if (acceptsTelemetryRaw(v)) accepted++;
        else if (!telemetryRawV1Schema.safeParse(v).success) refusedBySchemaToo++;
      }
      const { [key]: _gone, ...missing } = valid as Record<string, unknown>;
      check(missing);
    }
    for (const odd of oddValues) check(odd);
    // Both sides were exercised: many variants accepted, many refused by both.
    expect(accepted).toBeGreaterThan(50);
    expect(refusedBySchemaToo).toBeGreaterThan(200);
  });

  it('encodes a vouched-for sample as its JSON and still refuses an invalid one', () => {
    expect(JSON.parse(encode(telemetryRawV1, valid as never).toString())).toEqual(valid);
    expect(() => encode(telemetryRawV1, { ...valid, seq: -1 } as never)).toThrow(/CONTRACTS.SCHEMA: .*seq/);
  });

  it('decodes to the same message with or without the fast path, and explains a refused one as before', () => {
    const good = Buffer.from(JSON.stringify(valid));
    // Vouched for: the bytes are exactly the message's JSON.
    expect(decode(telemetryRawV1, good)).toEqual({ ok: true, value: telemetryRawV1Schema.parse(valid), exact: true });
    // An unknown key is not vouched for: the schema strips it, as it always did, and the bytes are not the message's JSON.
    expect(decode(telemetryRawV1, Buffer.from(JSON.stringify({ ...valid, extra: 1 })))).toStrictEqual({ ok: true, value: telemetryRawV1Schema.parse(valid) });
    const bad = decode(telemetryRawV1, Buffer.from(JSON.stringify({ ...valid, sourceTime: '2026-11-31T10:00:00Z' })));
    expect(bad).toMatchObject({ ok: false, code: 'CONTRACTS.SCHEMA', reason: expect.stringMatching(/^sourceTime: /) });
  });
});
