import type { TelemetryEnrichedV1 } from '@weir/contracts';
import { qualityClass } from '@weir/domain';
import type { DetectionEvent, FieldValue } from '../detection-event';

/**
 * Normalises an enriched sample into a `process_value` event with its asset,
 * work order and safe limits, for the limit extension. Returns undefined for
 * samples no rule can use: non-numeric values, Bad quality, heartbeats and
 * series without limits.
 */
export function normaliseTelemetry(s: TelemetryEnrichedV1): DetectionEvent | undefined {
  const limits = s.context.limits;
  if (typeof s.value !== 'number' || !limits || (limits.low === undefined && limits.high === undefined) || s.heartbeat) return undefined;
  const quality = qualityClass(s.status);
  if (quality === 'bad') return undefined;
  const f: Record<string, FieldValue> = {
    'event.source': 'telemetry',
    'event.category': 'process_value',
    'event.action': 'sample',
    'ot.source_id': s.sourceId,
    'ot.node_id': s.nodeId,
    'metric.value': s.value,
    'metric.quality': quality,
  };
  if (s.browsePath) f['ot.browse_path'] = s.browsePath;
  if (s.context.unit) f['metric.unit'] = s.context.unit;
  if (limits.low !== undefined) f['limit.low'] = limits.low;
  if (limits.high !== undefined) f['limit.high'] = limits.high;
  if (s.context.asset) {
    f['asset.id'] = s.context.asset.id;
    f['asset.path'] = s.context.asset.path;
  }
  f['work_order.id'] = s.context.workOrder?.id ?? null;
  return { id: `ot.telemetry.enriched.v1:${s.sourceId}:${s.seq}`, time: Date.parse(s.sourceTime), origin: 'ot.telemetry.enriched.v1', fields: f };
}
