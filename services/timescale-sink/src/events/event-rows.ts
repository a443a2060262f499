import type { AlertV1, ItSecurityEventV1, OtEventV1 } from '@weir/contracts';
import { pgArray } from '@weir/timescale';
import type { ReportedGap } from '../completeness/completeness.repository';

/** Columns of `ot_events` in row order. */
export const OT_EVENT_COLUMNS = ['time', 'source_id', 'event_id', 'seq', 'kind', 'type', 'severity', 'message', 'node_id', 'browse_path', 'actor_user', 'actor_client_address', 'condition_id', 'received_time', 'event'] as const;
/** Columns of `security_events` in row order. */
export const SECURITY_EVENT_COLUMNS = ['time', 'product_name', 'uid', 'class_uid', 'category_uid', 'activity_id', 'severity_id', 'status_id', 'message', 'user_name', 'user_domain', 'src_ip', 'src_port', 'src_hostname', 'src_intermediate_ips', 'dst_ip', 'dst_port', 'dst_hostname', 'is_mfa', 'is_remote', 'logon_type_id', 'event'] as const;
/** Columns of `alerts` in row order. */
export const ALERT_COLUMNS = ['time', 'finding_uid', 'activity_id', 'severity_id', 'status_id', 'title', 'analytic_uid', 'analytic_name', 'attack_techniques', 'resource_uids', 'first_seen_time', 'last_seen_time', 'finding'] as const;

/** One `ot_events` row; the whole message goes into `event`. */
export function otEventRow(e: OtEventV1): unknown[] {
  return [e.time, e.sourceId, e.eventId, e.seq ?? null, e.kind, e.type, e.severity, e.message, e.nodeId ?? null, e.browsePath ?? null, e.actor?.user ?? null, e.actor?.clientAddress ?? null, e.alarm?.conditionId ?? null, e.receivedTime ?? null, e];
}

/** The gap a `gap` event reports, if it reports one. */
export function reportedGap(e: OtEventV1): ReportedGap | undefined {
  if (e.kind !== 'gap' || !e.gap) return undefined;
  return { sourceId: e.sourceId, nodeId: e.nodeId ?? null, fromTime: e.gap.from, toTime: e.gap.to, reason: e.gap.reason, eventId: e.eventId };
}

/** One `security_events` row. */
export function securityEventRow(e: ItSecurityEventV1): unknown[] {
  return [
    e.time, e.metadata.product.name, e.uid, e.class_uid, e.category_uid, e.activity_id, e.severity_id, e.status_id ?? null, e.message ?? null,
    e.user?.name ?? null, e.user?.domain ?? null,
    e.src_endpoint?.ip ?? null, e.src_endpoint?.port ?? null, e.src_endpoint?.hostname ?? null, e.src_endpoint?.intermediate_ips ? pgArray(e.src_endpoint.intermediate_ips) : null,
    e.dst_endpoint?.ip ?? null, e.dst_endpoint?.port ?? null, e.dst_endpoint?.hostname ?? null,
    e.is_mfa ?? null, e.is_remote ?? null, e.logon_type_id ?? null, e,
  ];
}

/** One `alerts` row. */
export function alertRow(a: AlertV1): unknown[] {
  const f = a.finding_info;
  return [
    a.time, f.uid, a.activity_id, a.severity_id, a.status_id ?? null, f.title, f.analytic?.uid ?? null, f.analytic?.name ?? null,
    pgArray(f.attacks.map((x) => x.technique.uid)), pgArray(a.resources.map((r) => r.uid)), f.first_seen_time ?? null, f.last_seen_time ?? null, a,
  ];
}
