import type { ErpAssetV1, ItSecurityEventV1, OtEventV1, TelemetryEnrichedV1 } from '@weir/contracts';

// Events read back from storage (TimescaleDB, written by timescale-sink) for a retro-hunt. OT and IT events are
// stored whole (the `event` column), so they are the Kafka message as it was; an enriched sample is stored as a
// narrow row (value, status, seq by series) and its context is looked up again as of its source time. The
// functions here turn such rows back into the messages the live correlator consumed, so the same normalisers
// (and so the same detection events) apply to both.

/** The OT event a stored `ot_events.event` holds. */
export function otEventFromStored(event: unknown): OtEventV1 {
  return event as OtEventV1;
}

/** The IT security event a stored `security_events.event` holds. */
export function itEventFromStored(event: unknown): ItSecurityEventV1 {
  return event as ItSecurityEventV1;
}

/** Safe limits per measurement, as the ERP asset register holds them (`assets.limits`). */
export type AssetLimits = NonNullable<ErpAssetV1['limits']>;

/** The limit of a measurement (compared case-insensitively, as the enricher does), if the asset has one. */
export function limitOfMeasurement(limits: AssetLimits | null | undefined, measurement: string | undefined): AssetLimits[string] | undefined {
  if (!limits || !measurement) return undefined;
  const m = measurement.toLowerCase();
  for (const [name, limit] of Object.entries(limits)) if (name.toLowerCase() === m) return limit;
  return undefined;
}

/** The measurement name of a node (the key into an asset's limits): the first capture group of the enricher's `measurementPattern`. */
export function measurementOf(nodeId: string, pattern: RegExp): string | undefined {
  return pattern.exec(nodeId)?.[1]?.toLowerCase();
}

/** A stored numeric sample with the context valid at its time (series dictionary, asset version, open work order). */
export interface StoredSampleRow {
  /** Source time, ISO 8601 (microseconds allowed). */
  time: string;
  sourceId: string;
  nodeId: string;
  browsePath: string | null;
  seq: number | string;
  origin: TelemetryEnrichedV1['origin'];
  value: number | null;
  status: number | string;
  /** The series' asset and that asset's version at `time`; null when unknown. */
  asset: { id: string; path: string; name?: string | null; level?: string | null; limits?: AssetLimits | null } | null;
  /** The work order open on the asset at `time` (latest-starting, not cancelled), if any. */
  workOrder: { id: string; type?: string | null; status?: string | null } | null;
  /** The measurement name of the node (see `measurementOf`). */
  measurement: string | undefined;
}

/**
 * The enriched sample the enricher would have published for a stored row: the same asset, work order, unit and
 * limits (the limit of the node's measurement in the asset version valid at the sample time). Production order,
 * shift and cost centre are not needed by any detection and are left null.
 */
export function enrichedSampleFromStored(row: StoredSampleRow): TelemetryEnrichedV1 {
  const limit = row.asset ? limitOfMeasurement(row.asset.limits, row.measurement) : undefined;
  return {
    sourceId: row.sourceId,
    nodeId: row.nodeId,
    seq: Number(row.seq),
    origin: row.origin,
    value: row.value,
    status: Number(row.status),
    sourceTime: new Date(Date.parse(row.time)).toISOString(),
    ...(row.browsePath ? { browsePath: row.browsePath } : {}),
    context: {
      asset: row.asset ? { id: row.asset.id, path: row.asset.path, ...(row.asset.name ? { name: row.asset.name } : {}), ...(row.asset.level ? { level: row.asset.level } : {}) } : null,
      productionOrder: null,
      workOrder: row.workOrder ? { id: row.workOrder.id, ...(row.workOrder.type ? { type: row.workOrder.type } : {}), ...(row.workOrder.status ? { status: row.workOrder.status } : {}) } : null,
      shift: null,
      costCentre: null,
      unit: limit?.unit ?? null,
      limits: limit ? { ...(limit.low !== undefined ? { low: limit.low } : {}), ...(limit.high !== undefined ? { high: limit.high } : {}) } : null,
    },
  };
}

/** A stored work order version (`work_orders` row) as the engine's `applyWorkOrder` takes it. */
export interface StoredWorkOrderRow {
  id: string;
  validFrom: string;
  validTo: string | null;
  assetId: string;
  status: string;
  changedAt: string;
}

/**
 * The key and value to feed `DetectionEngine.applyWorkOrder` for a stored work order version. The live correlator
 * keys by order id (the compacted topic holds the latest version); storage keeps every version (id, valid_from),
 * so each version is applied under its own key and covers its own validity.
 */
export function workOrderFromStored(row: StoredWorkOrderRow): { key: string; workOrder: { assetId: string; status: string; validFrom: string; validTo: string | null; changedAt: string } } {
  return { key: `${row.id}@${row.validFrom}`, workOrder: { assetId: row.assetId, status: row.status, validFrom: row.validFrom, validTo: row.validTo, changedAt: row.changedAt } };
}

/**
 * Whether a rule set needs enriched telemetry: only limit rules (or rules that name telemetry fields) can
 * match a `process_value` event, and reading samples is by far the largest part of a hunt.
 */
export function rulesNeedTelemetry(rules: readonly { kind: string; weir: { limit?: unknown }; logsource?: Record<string, string> }[], sourceTexts: readonly string[] = []): boolean {
  if (rules.some((r) => r.kind === 'detection' && r.weir.limit !== undefined)) return true;
  if (rules.some((r) => r.kind === 'detection' && Object.values(r.logsource ?? {}).some((v) => /telemetry|process_value/i.test(v)))) return true;
  return sourceTexts.some((t) => /\b(metric\.|limit\.(low|high)|process_value|telemetry)\b/i.test(t));
}
