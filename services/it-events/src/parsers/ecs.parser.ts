import { ACTIVITY, compact, fieldsOf, isIp, OCSF, SEVERITY, STATUS, toPort, type EventDraft, type ParseResult } from '../normalise/ocsf';
import { get, str, strList, type JsonObject } from './json-path';

/** True when a JSON document looks like Elastic Common Schema (`@timestamp`, `ecs.version` or an `event` object). */
export function looksLikeEcs(doc: JsonObject): boolean {
  return get(doc, '@timestamp') !== undefined || get(doc, 'ecs.version') !== undefined || get(doc, 'event.category') !== undefined || get(doc, 'event.kind') !== undefined;
}

/** True for an ECS authentication event (`event.category` includes `authentication`). */
export function isEcsAuthentication(doc: JsonObject): boolean {
  return strList(doc, 'event.category').includes('authentication');
}

/** True for an ECS alert from an EDR/AV/IDS (`event.kind: alert`, or category `malware` / `intrusion_detection`). */
export function isEcsAlert(doc: JsonObject): boolean {
  const categories = strList(doc, 'event.category');
  return str(doc, 'event.kind') === 'alert' || categories.includes('malware') || categories.includes('intrusion_detection');
}

function product(doc: JsonObject): EventDraft['product'] {
  const name = str(doc, 'observer.product') ?? str(doc, 'event.module') ?? str(doc, 'event.provider') ?? 'unknown';
  const vendor = str(doc, 'observer.vendor');
  return vendor ? { name, vendor_name: vendor } : { name };
}

function endpoint(doc: JsonObject, side: 'source' | 'destination'): EventDraft['src_endpoint'] {
  const ip = str(doc, `${side}.ip`);
  const e = compact({ ip: isIp(ip) ? ip : undefined, port: toPort(get(doc, `${side}.port`) as string | number | undefined), hostname: str(doc, `${side}.domain`) ?? str(doc, `${side}.address`) });
  return Object.keys(e).length ? e : undefined;
}

/**
 * A generic ECS authentication event (identity providers, VPNs shipped by
 * Elastic's shippers): user, source, outcome. ECS has no field for the factors
 * used, so `is_mfa` stays absent; `is_remote` is true when `source.ip` is
 * present and not loopback.
 */
export function parseEcsAuthentication(doc: JsonObject): ParseResult {
  const outcome = str(doc, 'event.outcome');
  const types = strList(doc, 'event.type');
  const src = endpoint(doc, 'source');
  const user = compact({ name: str(doc, 'user.name'), domain: str(doc, 'user.domain'), uid: str(doc, 'user.id') });
  const event: EventDraft = {
    ...OCSF.authentication,
    product: product(doc),
    activity_id: types.includes('end') ? ACTIVITY.logoff : ACTIVITY.logon,
    severity_id: outcome === 'failure' ? SEVERITY.low : SEVERITY.informational,
    status_id: outcome === 'success' ? STATUS.success : outcome === 'failure' ? STATUS.failure : STATUS.unknown,
    unmapped: fieldsOf({ 'event.action': str(doc, 'event.action'), 'event.dataset': str(doc, 'event.dataset') }),
  };
  const time = str(doc, '@timestamp');
  if (time) event.time = time;
  const message = str(doc, 'message');
  if (message) event.message = message;
  if (Object.keys(user).length) event.user = user;
  if (src) {
    event.src_endpoint = src;
    if (src.ip) event.is_remote = !(src.ip.startsWith('127.') || src.ip === '::1');
  }
  const dst = endpoint(doc, 'destination');
  if (dst) event.dst_endpoint = dst;
  return { ok: true, event };
}

/**
 * An ECS alert from EDR/AV/IDS as an OCSF Detection Finding (2004): the rule
 * and threat fields go to `unmapped`, the host to `dst_endpoint`. ECS
 * `event.severity` is source-specific, so severity is Medium unless the
 * document carries an OCSF-style `event.severity` of 1..6.
 */
export function parseEcsAlert(doc: JsonObject): ParseResult {
  const sev = Number(get(doc, 'event.severity'));
  const severity = Number.isInteger(sev) && sev >= 1 && sev <= 6 ? sev : SEVERITY.medium;
  const host = str(doc, 'host.name') ?? str(doc, 'host.hostname');
  const hostIp = strList(doc, 'host.ip').find((i) => isIp(i));
  const user = compact({ name: str(doc, 'user.name'), domain: str(doc, 'user.domain') });
  const event: EventDraft = {
    ...OCSF.detectionFinding,
    product: product(doc),
    activity_id: ACTIVITY.create,
    severity_id: severity,
    unmapped: fieldsOf({
      'rule.name': str(doc, 'rule.name'),
      'rule.id': str(doc, 'rule.id'),
      'threat.technique.id': strList(doc, 'threat.technique.id').join(',') || undefined,
      'file.path': str(doc, 'file.path'),
      'file.hash.sha256': str(doc, 'file.hash.sha256'),
      'process.executable': str(doc, 'process.executable'),
      'event.action': str(doc, 'event.action'),
    }),
  };
  const time = str(doc, '@timestamp');
  if (time) event.time = time;
  const message = str(doc, 'message') ?? str(doc, 'rule.name');
  if (message) event.message = message;
  if (host || hostIp) event.dst_endpoint = compact({ hostname: host, ip: hostIp });
  const src = endpoint(doc, 'source');
  if (src) event.src_endpoint = src;
  if (Object.keys(user).length) event.user = user;
  return { ok: true, event };
}
