import type { ErpWorkOrderV1 } from '@weir/contracts';
import { describe, expect, it } from 'vitest';
import { planContextChanges } from './context-rows';

const wo = (id: string, validFrom: string, changedAt: string, status: ErpWorkOrderV1['status'] = 'released'): ErpWorkOrderV1 => ({ id, validFrom, changedAt, assetId: 'a', type: 'PM01', status, attributes: {} });

describe('planContextChanges', () => {
  it('keeps order across tombstones and the newest version of one (id, valid_from) within a run', () => {
    const plan = planContextChanges([
      { kind: 'upsert', message: wo('1', '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z', 'completed') },
      { kind: 'upsert', message: wo('1', '2024-01-01T00:00:00+00:00', '2024-01-01T00:00:00Z', 'released') },
      { kind: 'upsert', message: wo('2', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z') },
      { kind: 'delete', id: '2', atMs: 5 },
      { kind: 'delete', id: '3', atMs: 6 },
      { kind: 'upsert', message: wo('2', '2024-02-01T00:00:00Z', '2024-02-01T00:00:00Z') },
    ]);
    expect(plan).toEqual([
      { kind: 'upsert', messages: [wo('1', '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z', 'completed'), wo('2', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')] },
      { kind: 'delete', ids: ['2', '3'], atMs: [5, 6] },
      { kind: 'upsert', messages: [wo('2', '2024-02-01T00:00:00Z', '2024-02-01T00:00:00Z')] },
    ]);
  });
});
