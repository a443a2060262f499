import { erpAssetsV1, erpProductionOrdersV1, erpShiftsV1, erpWorkOrdersV1, type ErpAssetV1, type ErpProductionOrderV1, type ErpShiftV1, type ErpWorkOrderV1, type TopicDefinition } from '@weir/contracts';

/** A column of an ERP context table: its SQL type and how to read it from a message. */
interface ContextColumn<T> {
  name: string;
  type: string;
  value: (m: T) => unknown;
}

/** How one ERP topic maps onto its table. */
export interface ContextTable<T extends { id: string; validFrom: string; changedAt: string }> {
  topic: TopicDefinition;
  table: string;
  columns: readonly ContextColumn<T>[];
}

type Base = { id: string; validFrom: string; validTo?: string | null | undefined; changedAt: string; origin?: string | undefined; attributes: Record<string, unknown> };

function common<T extends Base>(): ContextColumn<T>[] {
  return [
    { name: 'id', type: 'text', value: (m) => m.id },
    { name: 'valid_from', type: 'timestamptz', value: (m) => m.validFrom },
    { name: 'valid_to', type: 'timestamptz', value: (m) => m.validTo ?? null },
    { name: 'changed_at', type: 'timestamptz', value: (m) => m.changedAt },
    { name: 'origin', type: 'text', value: (m) => m.origin ?? null },
    { name: 'attributes', type: 'jsonb', value: (m) => m.attributes },
  ];
}

/** erp.assets.v1 -> assets. */
export const ASSETS: ContextTable<ErpAssetV1> = {
  topic: erpAssetsV1,
  table: 'assets',
  columns: [
    ...common<ErpAssetV1>(),
    { name: 'parent_id', type: 'text', value: (m) => m.parentId },
    { name: 'level', type: 'isa95_level', value: (m) => m.level },
    { name: 'name', type: 'text', value: (m) => m.name },
    { name: 'path', type: 'text', value: (m) => m.path },
    { name: 'cost_centre', type: 'text', value: (m) => m.costCentre ?? null },
    { name: 'limits', type: 'jsonb', value: (m) => m.limits ?? null },
  ],
};

/** erp.work-orders.v1 -> work_orders. */
export const WORK_ORDERS: ContextTable<ErpWorkOrderV1> = {
  topic: erpWorkOrdersV1,
  table: 'work_orders',
  columns: [
    ...common<ErpWorkOrderV1>(),
    { name: 'asset_id', type: 'text', value: (m) => m.assetId },
    { name: 'type', type: 'text', value: (m) => m.type },
    { name: 'status', type: 'erp_order_status', value: (m) => m.status },
    { name: 'description', type: 'text', value: (m) => m.description ?? null },
  ],
};

/** erp.production-orders.v1 -> production_orders. */
export const PRODUCTION_ORDERS: ContextTable<ErpProductionOrderV1> = {
  topic: erpProductionOrdersV1,
  table: 'production_orders',
  columns: [
    ...common<ErpProductionOrderV1>(),
    { name: 'asset_id', type: 'text', value: (m) => m.assetId },
    { name: 'material', type: 'text', value: (m) => m.material },
    { name: 'material_description', type: 'text', value: (m) => m.materialDescription ?? null },
    { name: 'planned_quantity', type: 'double precision', value: (m) => m.plannedQuantity },
    { name: 'unit', type: 'text', value: (m) => m.unit ?? null },
    { name: 'ideal_cycle_time_s', type: 'double precision', value: (m) => m.idealCycleTimeS ?? null },
    { name: 'status', type: 'erp_order_status', value: (m) => m.status },
  ],
};

/** erp.shifts.v1 -> shifts. */
export const SHIFTS: ContextTable<ErpShiftV1> = {
  topic: erpShiftsV1,
  table: 'shifts',
  columns: [
    ...common<ErpShiftV1>(),
    { name: 'site_id', type: 'text', value: (m) => m.siteId },
    { name: 'name', type: 'text', value: (m) => m.name },
    { name: 'planned_break_minutes', type: 'double precision', value: (m) => m.plannedBreakMinutes },
  ],
};

/** One change to apply, in offset order: a new or updated version, or a tombstone (the record was deleted). */
export type ContextChange<T> = { kind: 'upsert'; message: T } | { kind: 'delete'; id: string; atMs: number };

/**
 * Splits changes into runs to apply in order. Within a run of upserts, the
 * same (id, valid_from) twice keeps the one changed last (the later offset on
 * a tie), since one INSERT ... ON CONFLICT DO UPDATE cannot touch a row twice.
 */
export function planContextChanges<T extends { id: string; validFrom: string; changedAt: string }>(changes: readonly ContextChange<T>[]): ({ kind: 'upsert'; messages: T[] } | { kind: 'delete'; ids: string[]; atMs: number[] })[] {
  const runs: ({ kind: 'upsert'; messages: T[] } | { kind: 'delete'; ids: string[]; atMs: number[] })[] = [];
  for (const c of changes) {
    const last = runs[runs.length - 1];
    if (c.kind === 'upsert') {
      if (last?.kind === 'upsert') last.messages.push(c.message);
      else runs.push({ kind: 'upsert', messages: [c.message] });
    } else if (last?.kind === 'delete') {
      last.ids.push(c.id);
      last.atMs.push(c.atMs);
    } else runs.push({ kind: 'delete', ids: [c.id], atMs: [c.atMs] });
  }
  for (const run of runs) {
    if (run.kind !== 'upsert') continue;
    const latest = new Map<string, T>();
    for (const m of run.messages) {
      const key = `${m.id}\u0000${Date.parse(m.validFrom)}`;
      const prev = latest.get(key);
      if (!prev || Date.parse(m.changedAt) >= Date.parse(prev.changedAt)) latest.set(key, m);
    }
    run.messages = [...latest.values()];
  }
  return runs;
}
