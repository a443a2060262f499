import { seriesKey, type TelemetryEnrichedV1 } from '@weir/contracts';
import { describe, expect, it } from 'vitest';
import { buildTelemetryBatch, sampleKeys, telemetryTable } from './telemetry-rows';

const build = (samples: TelemetryEnrichedV1[], ids: ReadonlyMap<string, number>): ReturnType<typeof buildTelemetryBatch> => buildTelemetryBatch(samples, sampleKeys(samples), ids);

const context: TelemetryEnrichedV1['context'] = { asset: null, productionOrder: null, workOrder: null, shift: null, costCentre: null, unit: null, limits: null };
const s = (seq: number, nodeId: string, sourceTime: string, value: TelemetryEnrichedV1['value'], extra: Partial<TelemetryEnrichedV1> = {}): TelemetryEnrichedV1 => ({
  sourceId: 'src',
  nodeId,
  seq,
  origin: 'opcua',
  value,
  status: 0,
  sourceTime,
  context,
  ...extra,
});

describe('telemetryTable', () => {
  it.each([
    [412.5, undefined, 'telemetry'],
    [null, 'Double', 'telemetry'],
    [null, undefined, 'telemetry'],
    [null, 'String', 'telemetry_other'],
    [true, 'Boolean', 'telemetry_other'],
    ['down', 'String', 'telemetry_other'],
    [{ a: 1 }, 'ExtensionObject', 'telemetry_other'],
  ] as const)('%j of type %s goes to %s', (value, dataType, table) => {
    expect(telemetryTable(value as TelemetryEnrichedV1['value'], dataType)).toBe(table);
  });
});

describe('buildTelemetryBatch', () => {
  const ids = new Map([
    [seriesKey({ sourceId: 'src', nodeId: 'A' }), 1],
    [seriesKey({ sourceId: 'src', nodeId: 'B' }), 2],
  ]);

  it('splits numbers from other values and keeps source times as sent', () => {
    const batch = build(
      [
        s(1, 'A', '2024-01-01T00:00:00.123456Z', 1.5, { serverTime: '2024-01-01T00:00:00.2Z' }),
        s(2, 'B', '2024-01-01T00:00:01Z', 'running'),
        s(3, 'B', '2024-01-01T00:00:02Z', { x: [1] }),
        s(4, 'B', '2024-01-01T00:00:03Z', false),
      ],
      ids,
    );
    expect(batch.numeric).toEqual([['2024-01-01T00:00:00.123456Z', 1, 'opcua', 1.5, 0, 1, '2024-01-01T00:00:00.2Z']]);
    expect(batch.other).toEqual([
      ['2024-01-01T00:00:01Z', 2, 'opcua', 0, 2, null, null, 'running', null],
      ['2024-01-01T00:00:02Z', 2, 'opcua', 0, 3, null, null, null, { x: [1] }],
      ['2024-01-01T00:00:03Z', 2, 'opcua', 0, 4, null, false, null, null],
    ]);
  });

  it('reports the minutes each numeric series touched and the sequence span per source', () => {
    const t = (m: number, sec: number): string => new Date(Date.UTC(2024, 0, 1, 0, m, sec)).toISOString();
    const batch = build([s(10, 'A', t(5, 30), 1), s(7, 'A', t(2, 0), 2), s(12, 'B', t(9, 0), 'x'), s(11, 'A', t(3, 59), 3)], ids);
    const minute0 = Date.UTC(2024, 0, 1) / 60_000;
    expect(batch.rollupRanges).toEqual([1, minute0 + 2, minute0 + 5]);
    expect(batch.sequences).toEqual([{ sourceId: 'src', minSeq: 7, maxSeq: 12, minTimeMs: Date.parse(t(2, 0)), maxTimeMs: Date.parse(t(9, 0)) + 1 }]);
  });

  it('puts samples before 1970 in the right minute', () => {
    const batch = build([s(1, 'A', '1969-12-31T23:59:30Z', 1)], ids);
    expect(batch.rollupRanges).toEqual([1, -1, -1]);
  });

  it('refuses a sample whose series was not resolved', () => {
    expect(() => build([s(1, 'C', '2024-01-01T00:00:00Z', 1)], ids)).toThrow(/SINK.SERIES_UNRESOLVED/);
  });
});
