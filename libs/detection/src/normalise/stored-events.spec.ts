import type { TelemetryEnrichedV1 } from '@weir/contracts';
import { describe, expect, it } from 'vitest';
import { normaliseTelemetry } from './telemetry.normaliser';
import { enrichedSampleFromStored, limitOfMeasurement, measurementOf, rulesNeedTelemetry, workOrderFromStored } from './stored-events';

const live: TelemetryEnrichedV1 = {
  sourceId: 'plant-hh',
  nodeId: 'ns=3;s=Line1.Filler1.Temperature',
  seq: 42,
  origin: 'opcua',
  value: 12.5,
  status: 0,
  sourceTime: '2026-11-24T17:00:00.000Z',
  context: { asset: { id: 'filler1', path: 'acme/hh/line1/filler1' }, productionOrder: null, workOrder: { id: 'WO-1' }, shift: null, costCentre: null, unit: 'CEL', limits: { low: 2, high: 8 } },
};

describe('stored events back into detection events', () => {
  it('rebuilds an enriched sample whose detection event equals the live one', () => {
    const pattern = /([^./=;]+)$/;
    const stored = enrichedSampleFromStored({
      time: '2026-11-24T17:00:00.000000Z',
      sourceId: 'plant-hh',
      nodeId: 'ns=3;s=Line1.Filler1.Temperature',
      browsePath: null,
      seq: '42',
      origin: 'opcua',
      value: 12.5,
      status: '0',
      asset: { id: 'filler1', path: 'acme/hh/line1/filler1', limits: { Temperature: { low: 2, high: 8, unit: 'CEL' }, pressure: { high: 3 } } },
      workOrder: { id: 'WO-1' },
      measurement: measurementOf('ns=3;s=Line1.Filler1.Temperature', pattern),
    });
    expect(normaliseTelemetry(stored)).toEqual(normaliseTelemetry(live));
  });

  it('finds limits by measurement case-insensitively and gives no limits when the asset has none for it', () => {
    expect(limitOfMeasurement({ Temperature: { high: 8 } }, 'temperature')).toEqual({ high: 8 });
    expect(limitOfMeasurement({ Temperature: { high: 8 } }, 'speed')).toBeUndefined();
    const noLimit = enrichedSampleFromStored({ time: '2026-11-24T17:00:00Z', sourceId: 's', nodeId: 'n.Speed', browsePath: null, seq: 1, origin: 'opcua', value: 1, status: 0, asset: { id: 'a', path: 'a', limits: { temperature: { high: 8 } } }, workOrder: null, measurement: 'speed' });
    expect(noLimit.context.limits).toBeNull();
    expect(normaliseTelemetry(noLimit)).toBeUndefined();
  });

  it('keys work order versions by id and start, so every stored version covers its own validity', () => {
    expect(workOrderFromStored({ id: 'WO-1', validFrom: '2026-11-24T06:00:00.000000Z', validTo: null, assetId: 'filler1', status: 'closed', changedAt: '2026-11-24T14:00:00.000000Z' })).toEqual({
      key: 'WO-1@2026-11-24T06:00:00.000000Z',
      workOrder: { assetId: 'filler1', status: 'closed', validFrom: '2026-11-24T06:00:00.000000Z', validTo: null, changedAt: '2026-11-24T14:00:00.000000Z' },
    });
  });

  it('says when a rule set needs telemetry', () => {
    expect(rulesNeedTelemetry([{ kind: 'detection', weir: {} }])).toBe(false);
    expect(rulesNeedTelemetry([{ kind: 'detection', weir: { limit: {} } }])).toBe(true);
    expect(rulesNeedTelemetry([{ kind: 'detection', weir: {}, logsource: { service: 'telemetry' } }])).toBe(true);
    expect(rulesNeedTelemetry([{ kind: 'detection', weir: {} }], ['detection:\n  sel:\n    metric.value|gt: 5'])).toBe(true);
  });
});
