import { z } from 'zod';
import { isoTime, jsonValue } from './common';
import { defineTopic } from './topic';

/**
 * Fields every ERP entity carries. The validity interval says when the record
 * applies, so telemetry can be joined "as of" its source time; `validTo`
 * absent means still valid. Deletions are Kafka tombstones (a null value).
 */
const erpEntityBase = z.object({
  id: z.string().min(1).max(200),
  validFrom: isoTime,
  validTo: isoTime.nullish(),
  /** When the ERP last changed the record (used for delta polling and last-writer-wins). */
  changedAt: isoTime,
  /** The ERP system and object the record came from (`sap:API_EQUIPMENT`, `file:assets.csv`). */
  origin: z.string().max(200).optional(),
  attributes: z.record(z.string(), jsonValue).default({}),
});

/** ISA-95 hierarchy levels. */
export const isa95Level = z.enum(['enterprise', 'site', 'area', 'line', 'cell', 'machine', 'equipment']);

/** An asset of the ISA-95 hierarchy (SAP functional location or equipment). */
export const erpAssetV1Schema = erpEntityBase.extend({
  parentId: z.string().nullable(),
  level: isa95Level,
  name: z.string().max(500),
  /** Slash-separated path of ids from the enterprise down (`acme/hamburg/packaging/line1/filler1`). */
  path: z.string().max(2000),
  costCentre: z.string().max(100).optional(),
  /** Safe operating limits per measurement (`temperature` -> low/high in `unit`). */
  limits: z.record(z.string(), z.object({ low: z.number().optional(), high: z.number().optional(), unit: z.string().optional() })).optional(),
});
/** One asset. */
export type ErpAssetV1 = z.infer<typeof erpAssetV1Schema>;

/** A maintenance work order on an asset; valid while open. */
export const erpWorkOrderV1Schema = erpEntityBase.extend({
  assetId: z.string(),
  /** SAP order type (PM01 corrective, PM02 preventive, ...) or a plain label. */
  type: z.string().max(50),
  status: z.enum(['created', 'released', 'in-progress', 'completed', 'closed', 'cancelled']),
  description: z.string().max(2000).optional(),
});
/** One work order. */
export type ErpWorkOrderV1 = z.infer<typeof erpWorkOrderV1Schema>;

/** A production order running on an asset (usually a line); valid between actual start and end. */
export const erpProductionOrderV1Schema = erpEntityBase.extend({
  assetId: z.string(),
  material: z.string().max(100),
  materialDescription: z.string().max(500).optional(),
  plannedQuantity: z.number().nonnegative(),
  unit: z.string().max(20).optional(),
  /** Ideal time to make one unit, in seconds (ISO 22400 ideal cycle time). */
  idealCycleTimeS: z.number().positive().optional(),
  status: z.enum(['created', 'released', 'in-progress', 'completed', 'closed', 'cancelled']),
});
/** One production order. */
export type ErpProductionOrderV1 = z.infer<typeof erpProductionOrderV1Schema>;

/** A shift at a site; planned production time comes from shifts less planned breaks. */
export const erpShiftV1Schema = erpEntityBase.extend({
  siteId: z.string(),
  name: z.string().max(100),
  plannedBreakMinutes: z.number().nonnegative().default(0),
});
/** One shift. */
export type ErpShiftV1 = z.infer<typeof erpShiftV1Schema>;

const byId = (e: { id: string }): string => e.id;

/** Assets (ISA-95 tree), compacted by id. */
export const erpAssetsV1 = defineTopic({ name: 'erp.assets.v1', description: 'ISA-95 assets from the ERP, latest per id', schema: erpAssetV1Schema, key: byId, cleanupPolicy: 'compact', defaultPartitions: 3 });
/** Maintenance work orders, compacted by id. */
export const erpWorkOrdersV1 = defineTopic({ name: 'erp.work-orders.v1', description: 'Maintenance work orders, latest per id', schema: erpWorkOrderV1Schema, key: byId, cleanupPolicy: 'compact', defaultPartitions: 3 });
/** Production orders, compacted by id. */
export const erpProductionOrdersV1 = defineTopic({ name: 'erp.production-orders.v1', description: 'Production orders, latest per id', schema: erpProductionOrderV1Schema, key: byId, cleanupPolicy: 'compact', defaultPartitions: 3 });
/** Shifts, compacted by id. */
export const erpShiftsV1 = defineTopic({ name: 'erp.shifts.v1', description: 'Shift calendar, latest per id', schema: erpShiftV1Schema, key: byId, cleanupPolicy: 'compact', defaultPartitions: 3 });
