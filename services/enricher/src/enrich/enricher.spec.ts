import { telemetryEnrichedV1, telemetryEnrichedV1Schema, type ErpAssetV1, type ErpProductionOrderV1, type ErpShiftV1, type ErpWorkOrderV1, type TelemetryRawV1 } from '@weir/contracts';
import { describe, expect, it } from 'vitest';
import { ContextStore } from '../context/context-store';
import { EMPTY_CONTEXT, Enricher, enrichedBytes, enrichedJson } from './enricher';

const base = { changedAt: '2024-01-01T00:00:00Z', attributes: {} };
const asset = (id: string, parentId: string | null, level: ErpAssetV1['level'], path: string, extra: Partial<ErpAssetV1> = {}): ErpAssetV1 => ({ ...base, id, parentId, level, name: id.toUpperCase(), path, validFrom: '2020-01-01T00:00:00Z', validTo: null, ...extra });

function plant(): ContextStore {
  const s = new ContextStore();
  s.apply('asset', 'acme', asset('acme', null, 'enterprise', 'acme'));
  s.apply('asset', 'hh', asset('hh', 'acme', 'site', 'acme/hh'));
  s.apply('asset', 'line1', asset('line1', 'hh', 'line', 'acme/hh/line1', { costCentre: 'CC-100' }));
  s.apply('asset', 'filler1', asset('filler1', 'line1', 'machine', 'acme/hh/line1/filler1', { limits: { Temperature: { low: 2, high: 8, unit: 'CEL' } } }));
  return s;
}
const po = (id: string, from: string, to: string | null, extra: Partial<ErpProductionOrderV1> = {}): ErpProductionOrderV1 => ({ ...base, id, assetId: 'line1', material: `MAT-${id}`, plannedQuantity: 100, status: 'in-progress', validFrom: from, validTo: to, ...extra });
const wo = (id: string, from: string, to: string | null): ErpWorkOrderV1 => ({ ...base, id, assetId: 'filler1', type: 'PM01', status: 'in-progress', validFrom: from, validTo: to });
const shift = (id: string, from: string, to: string): ErpShiftV1 => ({ ...base, id, siteId: 'hh', name: id, plannedBreakMinutes: 0, validFrom: from, validTo: to });

const raw = (nodeId: string, sourceTime: string): TelemetryRawV1 => ({ sourceId: 'plc1', nodeId, seq: 1, origin: 'opcua', value: 5, status: 0, sourceTime });
const rules = [{ kind: 'pattern' as const, target: 'nodeId' as const, regex: '^ns=2;s=(\\w+)\\.(\\w+)\\.', assetId: '${2:lower}' }];

describe('enrichedBytes', () => {
  it('refuses what is not an object with members, instead of splicing something broken', () => {
    const tail = Buffer.from(',"context":null}');
    expect(enrichedBytes(Buffer.from('{}'), tail)).toBeUndefined();
    expect(enrichedBytes(Buffer.from('{ \n}'), tail)).toBeUndefined();
    expect(enrichedBytes(Buffer.from('[1]'), tail)).toBeUndefined();
    expect(enrichedBytes(Buffer.from(''), tail)).toBeUndefined();
    expect(enrichedBytes(Buffer.from('{"a":1}\t'), tail)!.toString()).toBe('{"a":1,"context":null}');
  });
});

describe('Enricher', () => {
  it('attaches asset, cost centre from the line, unit and limits by measurement name', () => {
    const r = new Enricher(plant(), rules).enrich(raw('ns=2;s=Line1.Filler1.Temperature', '2024-06-01T10:00:00Z'));
    expect(r.outcome).toBe('enriched');
    expect(r.sample.context).toEqual({
      asset: { id: 'filler1', path: 'acme/hh/line1/filler1', name: 'FILLER1', level: 'machine' },
      productionOrder: null,
      workOrder: null,
      shift: null,
      costCentre: 'CC-100',
      unit: 'CEL',
      limits: { low: 2, high: 8 },
    });
  });

  it('takes the production order of the ancestor line valid at the source time, switching at the boundary', () => {
    const s = plant();
    s.apply('productionOrder', 'A', po('A', '2024-06-01T08:00:00Z', '2024-06-01T12:00:00Z'));
    s.apply('productionOrder', 'B', po('B', '2024-06-01T12:00:00Z', null));
    const e = new Enricher(s, rules);
    expect(e.enrich(raw('ns=2;s=Line1.Filler1.Speed', '2024-06-01T07:59:59.999Z')).sample.context.productionOrder).toBeNull();
    expect(e.enrich(raw('ns=2;s=Line1.Filler1.Speed', '2024-06-01T11:59:59.999Z')).sample.context.productionOrder).toEqual({ id: 'A', material: 'MAT-A' });
    expect(e.enrich(raw('ns=2;s=Line1.Filler1.Speed', '2024-06-01T12:00:00Z')).sample.context.productionOrder).toEqual({ id: 'B', material: 'MAT-B' });
  });

  it('has the work order only while it is open, and the shift by the site', () => {
    const s = plant();
    s.apply('workOrder', 'W1', wo('W1', '2024-06-01T10:00:00Z', '2024-06-01T11:00:00Z'));
    s.apply('shift', 'early', shift('early', '2024-06-01T06:00:00Z', '2024-06-01T14:00:00Z'));
    const e = new Enricher(s, rules);
    const at = (t: string) => e.enrich(raw('ns=2;s=Line1.Filler1.Speed', t)).sample.context;
    expect(at('2024-06-01T09:59:00Z').workOrder).toBeNull();
    expect(at('2024-06-01T10:30:00Z').workOrder).toEqual({ id: 'W1', type: 'PM01', status: 'in-progress' });
    expect(at('2024-06-01T11:00:00Z').workOrder).toBeNull();
    expect(at('2024-06-01T10:30:00Z').shift).toEqual({ id: 'early', name: 'early' });
    expect(at('2024-06-01T14:00:00Z').shift).toBeNull();
  });

  it('drops a closed-early update and a tombstone: the latest version of an id wins', () => {
    const s = plant();
    s.apply('workOrder', 'W1', wo('W1', '2024-06-01T10:00:00Z', null));
    s.apply('workOrder', 'W1', wo('W1', '2024-06-01T10:00:00Z', '2024-06-01T10:10:00Z'));
    const e = new Enricher(s, rules);
    expect(e.enrich(raw('ns=2;s=Line1.Filler1.Speed', '2024-06-01T10:30:00Z')).sample.context.workOrder).toBeNull();
    s.apply('productionOrder', 'A', po('A', '2024-06-01T08:00:00Z', null));
    s.apply('productionOrder', 'A', null);
    expect(e.enrich(raw('ns=2;s=Line1.Filler1.Speed', '2024-06-01T10:30:00Z')).sample.context.productionOrder).toBeNull();
  });

  it('ignores a cancelled order', () => {
    const s = plant();
    s.apply('productionOrder', 'C', po('C', '2024-06-01T08:00:00Z', null, { status: 'cancelled' }));
    expect(new Enricher(s, rules).enrich(raw('ns=2;s=Line1.Filler1.Speed', '2024-06-01T10:00:00Z')).sample.context.productionOrder).toBeNull();
  });

  it('passes an unknown series through with the empty context', () => {
    const r = new Enricher(plant(), rules).enrich(raw('ns=3;i=1234', '2024-06-01T10:00:00Z'));
    expect(r.outcome).toBe('unknown-series');
    expect(r.sample.context).toEqual(EMPTY_CONTEXT);
    expect(r.sample.nodeId).toBe('ns=3;i=1234');
  });

  it('keeps the mapped asset id when the ERP does not know the asset at that time', () => {
    const r = new Enricher(plant(), rules).enrich(raw('ns=2;s=Line9.Mixer.Speed', '2024-06-01T10:00:00Z'));
    expect(r.outcome).toBe('unknown-asset');
    expect(r.sample.context.asset).toEqual({ id: 'mixer', path: 'mixer' });
  });

  it('late context rule: a sample enriched before its order arrived keeps no order; the same time enriched after gets it', () => {
    const s = plant();
    const e = new Enricher(s, rules);
    const before = e.enrich(raw('ns=2;s=Line1.Filler1.Speed', '2024-06-01T10:00:00Z'));
    s.apply('productionOrder', 'L', po('L', '2024-06-01T09:00:00Z', null));
    const after = e.enrich(raw('ns=2;s=Line1.Filler1.Speed', '2024-06-01T10:00:00Z'));
    expect(before.sample.context.productionOrder).toBeNull();
    expect(after.sample.context.productionOrder).toEqual({ id: 'L', material: 'MAT-L' });
  });

  it('reuses a context only where nothing it depends on changes: the same answers as a fresh lookup, in any time order', () => {
    const s = plant();
    s.apply('productionOrder', 'A', po('A', '2024-06-01T08:00:00Z', '2024-06-01T12:00:00Z', { idealCycleTimeS: 2 }));
    s.apply('productionOrder', 'B', po('B', '2024-06-01T12:00:00Z', null));
    s.apply('workOrder', 'W1', wo('W1', '2024-06-01T10:00:00Z', '2024-06-01T11:00:00Z'));
    s.apply('shift', 'early', shift('early', '2024-06-01T06:00:00Z', '2024-06-01T14:00:00Z'));
    s.apply('shift', 'late', shift('late', '2024-06-01T14:00:00Z', '2024-06-01T22:00:00Z'));
    s.apply('asset', 'mixer', asset('mixer', 'line1', 'machine', 'acme/hh/line1/mixer', { validFrom: '2024-06-01T09:30:00Z', validTo: '2024-06-01T13:00:00Z' }));
    const memoised = new Enricher(s, rules);
    const start = Date.parse('2024-06-01T05:00:00Z');
    // Every 7 minutes over 18 hours, forwards, then backwards (late data), then shuffled; boundaries exactly too.
    const times = Array.from({ length: (18 * 60) / 7 }, (_, i) => start + i * 7 * 60_000);
    const boundaries = ['08:00', '09:30', '10:00', '11:00', '12:00', '13:00', '14:00', '22:00'].flatMap((hm) => [Date.parse(`2024-06-01T${hm}:00Z`) - 1, Date.parse(`2024-06-01T${hm}:00Z`)]);
    const order = [...times, ...[...times].reverse(), ...boundaries, ...times.map((_, i) => times[(i * 37) % times.length]!)];
    let checked = 0;
    for (const t of order) {
      for (const node of ['ns=2;s=Line1.Filler1.Temperature', 'ns=2;s=Line1.Mixer.Speed']) {
        const sample = raw(node, new Date(t).toISOString());
        expect(memoised.enrich(sample)).toEqual(new Enricher(s, rules).enrich(sample));
        checked++;
      }
    }
    expect(checked).toBe(order.length * 2);
  });

  it('writes only messages that fit the ot.telemetry.enriched.v1 schema (the output is sent without validating it again)', () => {
    const s = plant();
    s.apply('productionOrder', 'A', po('A', '2024-06-01T08:00:00Z', null, { idealCycleTimeS: 0.5 }));
    s.apply('workOrder', 'W1', wo('W1', '2024-06-01T08:00:00Z', null));
    s.apply('shift', 'early', shift('early', '2024-06-01T06:00:00Z', '2024-06-01T14:00:00Z'));
    const e = new Enricher(s, rules);
    const samples = [raw('ns=2;s=Line1.Filler1.Temperature', '2024-06-01T10:00:00Z'), raw('ns=2;s=Line1.Filler1.Speed', '2024-06-01T03:00:00Z'), raw('ns=2;s=Line9.Mixer.Speed', '2024-06-01T10:00:00Z'), raw('ns=3;i=1', '2024-06-01T10:00:00Z')];
    const outcomes = samples.map((x) => {
      const input = { ...x, serverTime: x.sourceTime, browsePath: 'Objects/x', heartbeat: true, dataType: 'Double' };
      const r = e.enrich(input);
      expect(telemetryEnrichedV1Schema.safeParse(JSON.parse(JSON.stringify(r.sample))).success).toBe(true);
      // The key sent with the spliced bytes is the output topic's key of the sample.
      expect(r.key).toBe(telemetryEnrichedV1.key(r.sample));
      // What is sent is assembled from the raw sample's JSON and the cached context JSON: the same text.
      expect(enrichedJson(input, r.contextJson)).toBe(JSON.stringify(r.sample));
      // Spliced from the input's own bytes (any spacing a producer used): the same message.
      for (const bytes of [Buffer.from(JSON.stringify(input)), Buffer.from(`${JSON.stringify(input, null, 2)} \n`)]) {
        const spliced = enrichedBytes(bytes, r.contextTail)!;
        expect(JSON.parse(spliced.toString('utf8'))).toEqual(JSON.parse(JSON.stringify(r.sample)));
      }
      return r.outcome;
    });
    expect(outcomes).toEqual(['enriched', 'enriched', 'unknown-asset', 'unknown-series']);
  });
});
