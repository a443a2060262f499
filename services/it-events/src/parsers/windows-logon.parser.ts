import { ACTIVITY, compact, fieldsOf, isIp, OCSF, SEVERITY, STATUS, toPort, type EventDraft, type ParseResult } from '../normalise/ocsf';
import { str, type JsonObject } from './json-path';

const LOGON_IDS = new Set(['4624', '4625']);
const LOGOFF_IDS = new Set(['4634', '4647']);

// Windows logon types (the same numbers as OCSF logon_type_id): 10 RemoteInteractive and
// 12 CachedRemoteInteractive are remote by definition; 3 Network and 8 NetworkCleartext when they
// come from another machine; the rest (2, 4, 5, 7, 9, 11, 13) are local.
const ALWAYS_REMOTE = new Set([10, 12]);
const REMOTE_IF_FROM_ELSEWHERE = new Set([3, 8]);
const LOCAL = new Set([2, 4, 5, 7, 9, 11, 13]);

/** True for a Winlogbeat ECS document of a Windows logon or logoff event. */
export function isWindowsLogon(doc: JsonObject): boolean {
  const id = str(doc, 'winlog.event_id') ?? (str(doc, 'winlog.channel') === 'Security' ? str(doc, 'event.code') : undefined);
  return id !== undefined && (LOGON_IDS.has(id) || LOGOFF_IDS.has(id));
}

/**
 * Windows Security 4624 (logon), 4625 (failed logon), 4634/4647 (logoff) in
 * Elastic Common Schema as Winlogbeat writes them (`winlog.event_data.*`,
 * values as strings), ECS fields (`user.name`, `source.ip`) as fallback.
 * `is_mfa` stays absent: these events do not record which factors were used.
 */
export function parseWindowsLogon(doc: JsonObject): ParseResult {
  const id = str(doc, 'winlog.event_id') ?? str(doc, 'event.code')!;
  const ed = (k: string): string | undefined => {
    const v = str(doc, `winlog.event_data.${k}`);
    return v === undefined || v === '-' ? undefined : v;
  };
  const logonType = ed('LogonType') !== undefined && /^\d+$/.test(ed('LogonType')!) ? Number(ed('LogonType')) : undefined;
  const ipRaw = ed('IpAddress') ?? str(doc, 'source.ip');
  const ip = isIp(ipRaw) ? ipRaw.replace(/^::ffff:/, '') : undefined;
  const fromElsewhere = ip !== undefined && !ip.startsWith('127.') && ip !== '::1';
  let isRemote: boolean | undefined;
  if (logonType !== undefined) {
    if (ALWAYS_REMOTE.has(logonType)) isRemote = true;
    else if (REMOTE_IF_FROM_ELSEWHERE.has(logonType)) isRemote = fromElsewhere;
    else if (LOCAL.has(logonType)) isRemote = false;
  }
  const outcome = str(doc, 'event.outcome');
  const failed = id === '4625' || outcome === 'failure';
  const userName = ed('TargetUserName') ?? str(doc, 'user.name');
  const domain = ed('TargetDomainName') ?? str(doc, 'user.domain');
  const sid = ed('TargetUserSid') ?? str(doc, 'user.id');
  const user = compact({ name: userName, domain, uid: sid });
  const src = compact({ ip, port: toPort(ed('IpPort') === '0' ? undefined : ed('IpPort')), hostname: ed('WorkstationName') });
  const dstHost = str(doc, 'winlog.computer_name') ?? str(doc, 'host.name');
  const unmapped = fieldsOf({
    event_id: id,
    logon_process: ed('LogonProcessName'),
    authentication_package: ed('AuthenticationPackageName'),
    failure_status: ed('Status'),
    failure_sub_status: ed('SubStatus'),
    failure_reason: ed('FailureReason'),
    target_logon_id: ed('TargetLogonId'),
  });
  const event: EventDraft = {
    ...OCSF.authentication,
    product: { name: 'Microsoft Windows', vendor_name: 'Microsoft' },
    activity_id: LOGOFF_IDS.has(id) ? ACTIVITY.logoff : ACTIVITY.logon,
    severity_id: failed ? SEVERITY.low : SEVERITY.informational,
    status_id: failed ? STATUS.failure : STATUS.success,
    unmapped,
  };
  const time = str(doc, '@timestamp');
  if (time) event.time = time;
  const message = str(doc, 'message');
  if (message) event.message = message;
  if (Object.keys(user).length) event.user = user;
  if (Object.keys(src).length) event.src_endpoint = src;
  if (dstHost) event.dst_endpoint = { hostname: dstHost };
  if (logonType !== undefined) event.logon_type_id = logonType;
  if (isRemote !== undefined) event.is_remote = isRemote;
  return { ok: true, event };
}
