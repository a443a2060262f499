import type { ItSecurityEventV1 } from '@weir/contracts';
import type { DetectionEvent, FieldValue } from '../detection-event';

const CATEGORY: Record<number, string> = { 3002: 'authentication', 4001: 'network', 4014: 'tunnel', 6003: 'api', 2004: 'finding', 0: 'other' };
const AUTH_ACTIVITY: Record<number, string> = { 1: 'logon', 2: 'logoff', 3: 'authentication_ticket', 4: 'service_ticket' };
const TUNNEL_ACTIVITY: Record<number, string> = { 1: 'open', 2: 'close', 3: 'renew' };

/**
 * Normalises an OCSF event of `it.security-events.v1` into the engine's model:
 * user, endpoints, the VPN-assigned address (`vpn.assigned_ip`), MFA and
 * remote flags, and EDR/AV findings with their text.
 */
export function normaliseItEvent(e: ItSecurityEventV1): DetectionEvent {
  const f: Record<string, FieldValue> = {
    'event.source': 'it',
    'event.code': e.class_uid,
    'event.category': CATEGORY[e.class_uid] ?? `ocsf_${e.class_uid}`,
    'event.severity_id': e.severity_id,
    'product.name': e.metadata.product.name,
  };
  let action = `activity_${e.activity_id}`;
  if (e.class_uid === 3002) action = AUTH_ACTIVITY[e.activity_id] ?? action;
  else if (e.class_uid === 4014) action = TUNNEL_ACTIVITY[e.activity_id] ?? action;
  else if (e.class_uid === 2004) action = 'detection';
  f['event.action'] = action;
  if (e.status_id === 1) f['event.outcome'] = 'success';
  else if (e.status_id === 2) f['event.outcome'] = 'failure';
  if (e.message) f['message'] = e.message;
  if (e.user?.name) f['user.name'] = e.user.name;
  if (e.user?.domain) f['user.domain'] = e.user.domain;
  const src = e.src_endpoint;
  if (src?.ip) f['src.ip'] = src.ip;
  if (src?.hostname) f['src.hostname'] = src.hostname;
  if (src?.port !== undefined) f['src.port'] = src.port;
  const assigned = src?.intermediate_ips ?? [];
  if (assigned.length > 0) {
    f['vpn.assigned_ip'] = assigned[0]!;
    f['vpn.assigned_ips'] = assigned;
  }
  if (e.dst_endpoint?.ip) f['dst.ip'] = e.dst_endpoint.ip;
  if (e.dst_endpoint?.hostname) f['dst.hostname'] = e.dst_endpoint.hostname;
  if (e.dst_endpoint?.port !== undefined) f['dst.port'] = e.dst_endpoint.port;
  if (e.is_mfa !== undefined) f['auth.is_mfa'] = e.is_mfa;
  if (e.is_remote !== undefined) f['auth.is_remote'] = e.is_remote;
  if (e.logon_type_id !== undefined) f['auth.logon_type'] = e.logon_type_id;
  for (const [k, v] of Object.entries(e.unmapped ?? {})) {
    if (v === null || typeof v !== 'object') f[`unmapped.${k}`] = v;
  }
  return { id: `it.security-events.v1:${e.uid}`, time: Date.parse(e.time), origin: 'it.security-events.v1', fields: f };
}
