import { describe, expect, it } from 'vitest';
import { allTopics, decode, defineTopic, dlqTopicName, encode, erpAssetsV1, fixtures, isJsonValue, seriesKey, telemetryRawV1, topicName } from './index';
import { z } from 'zod';

describe('topic catalogue', () => {
  it('has fixtures with valid and invalid examples for every topic', () => {
    for (const topic of allTopics) {
      const f = fixtures[topic.name];
      expect(f, topic.name).toBeDefined();
      expect(f!.valid.length, topic.name).toBeGreaterThan(0);
      expect(f!.invalid.length, topic.name).toBeGreaterThan(0);
    }
  });

  it.each(allTopics.map((t) => [t.name, t] as const))('%s accepts its valid fixtures and rejects its invalid ones', (_name, topic) => {
    for (const message of fixtures[topic.name]!.valid) {
      const result = decode(topic, JSON.stringify(message));
      expect(result.ok, JSON.stringify(result)).toBe(true);
    }
    for (const { reason, message } of fixtures[topic.name]!.invalid) {
      const result = decode(topic, JSON.stringify(message));
      expect(result.ok, reason).toBe(false);
      if (!result.ok) expect(result.code).toBe('CONTRACTS.SCHEMA');
    }
  });

  it('prefixes names and adds the dlq companion', () => {
    expect(topicName(telemetryRawV1, 'plant1.')).toBe('plant1.ot.telemetry.raw.v1');
    expect(dlqTopicName(telemetryRawV1, 'plant1.')).toBe('plant1.ot.telemetry.raw.v1.dlq');
  });

  it('refuses a topic name that does not follow the convention', () => {
    expect(() => defineTopic({ name: 'Telemetry', description: '', schema: z.object({}), key: () => '' })).toThrow(/CONTRACTS.BAD_TOPIC_NAME/);
  });
});

describe('codec', () => {
  const sample = fixtures['ot.telemetry.raw.v1']!.valid[0] as z.infer<typeof telemetryRawV1.schema>;

  it('round-trips a message', () => {
    const decoded = decode(telemetryRawV1, encode(telemetryRawV1, sample));
    expect(decoded).toEqual({ ok: true, value: sample, exact: true });
  });

  it('keys telemetry by source and node', () => {
    expect(telemetryRawV1.key(sample)).toBe('plant-hamburg|ns=3;s=Line1.Filler.Speed');
    expect(seriesKey(sample)).toBe(telemetryRawV1.key(sample));
  });

  it('names the field and the problem of an invalid message', () => {
    const result = decode(telemetryRawV1, JSON.stringify({ ...sample, seq: -3 }));
    expect(result).toMatchObject({ ok: false, code: 'CONTRACTS.SCHEMA' });
    if (!result.ok) expect(result.reason).toMatch(/^seq: /);
  });

  it('reports text that is not JSON', () => {
    expect(decode(telemetryRawV1, Buffer.from('{"sourceId":'))).toMatchObject({ ok: false, code: 'CONTRACTS.NOT_JSON' });
  });

  it('treats a null value as a tombstone on a compacted topic only', () => {
    expect(decode(erpAssetsV1, null)).toEqual({ ok: true, value: null, tombstone: true });
    expect(decode(telemetryRawV1, null)).toMatchObject({ ok: false, code: 'CONTRACTS.EMPTY' });
  });

  it('refuses to encode an invalid message', () => {
    expect(() => encode(telemetryRawV1, { ...sample, status: -1 })).toThrow(/CONTRACTS.SCHEMA.*status/);
  });
});

describe('jsonValue', () => {
  it('accepts JSON values and nested structures', () => {
    for (const v of [null, 0, -1.5, 'x', true, [], [1, 'a', null], { a: { b: [1, { c: false }] } }]) expect(isJsonValue(v), JSON.stringify(v)).toBe(true);
  });
  it('rejects what JSON cannot carry', () => {
    for (const v of [undefined, Number.NaN, Infinity, new Date(0), () => 1, Symbol('s'), 10n, [1, undefined], { a: new Map() }]) expect(isJsonValue(v), String(v)).toBe(false);
  });
  it('names the field of a non-JSON value in a message', () => {
    const sample = fixtures['ot.telemetry.raw.v1']!.valid[0] as Record<string, unknown>;
    expect(() => encode(telemetryRawV1, { ...sample, value: Number.NaN } as never)).toThrow(/value: must be a JSON value/);
  });
});
