import { ACTIVITY, compact, declaredMfa, isIp, OCSF, SEVERITY, STATUS, toPort, type EventDraft, type MfaDeclaration, type ParseResult } from '../normalise/ocsf';
import type { SyslogMessage } from '../syslog/syslog-message';
import { parseKeyValues } from './key-value';
import type { SyslogParser } from './syslog-parser';

/** Settings of the FortiGate parser. */
export interface FortiGateParserOptions {
  /** FortiOS VPN logs do not say whether FortiToken (or another second factor) was asked: the operator declares it. */
  mfa: MfaDeclaration;
}

// Fields we map; the rest of the log goes to `unmapped` (minus these and the header fields).
const MAPPED = new Set(['date', 'time', 'tz', 'eventtime', 'user', 'remip', 'remport', 'tunnelip', 'assignip', 'srcip', 'srcport', 'dstip', 'dstport', 'msg', 'logdesc', 'action', 'status', 'type', 'subtype']);

/**
 * FortiGate (FortiOS) key=value logs: SSL and IPsec VPN tunnel up/down
 * (4014, tunnel address in `src_endpoint.intermediate_ips`), SSL VPN login
 * failures and user authentication results (3002), and traffic logs (4001).
 * FortiGate sends no syslog TAG: the content decides (`logid=` and `type=`).
 */
export class FortiGateParser implements SyslogParser {
  readonly name = 'fortigate';
  readonly product = { name: 'FortiGate', vendor_name: 'Fortinet' };

  constructor(private readonly options: FortiGateParserOptions) {}

  claims(m: SyslogMessage): boolean {
    return m.appName !== undefined && /^forti(gate|os)$/i.test(m.appName);
  }

  recognises(m: SyslogMessage): boolean {
    return /(^|\s)logid="?\d{10}"?(\s|$)/.test(m.msg) && /(^|\s)type="?\w+"?(\s|$)/.test(m.msg);
  }

  parse(m: SyslogMessage): ParseResult {
    const kv = parseKeyValues(m.msg);
    if (!kv) return { ok: false, reason: 'FortiGate log is not key=value text' };
    const time = fortiTime(kv);
    const unmapped: Record<string, string> = {};
    for (const [k, v] of Object.entries(kv)) if (!MAPPED.has(k)) unmapped[k] = v;
    const user = kv['user'] && kv['user'] !== 'N/A' ? { user: { name: kv['user'] } } : {};
    const base = compact({ product: this.product, message: kv['msg'] ?? kv['logdesc'], time, originalTime: kv['date'] && kv['time'] ? `${kv['date']} ${kv['time']}${kv['tz'] ? ` ${kv['tz']}` : ''}` : undefined, unmapped });
    const action = kv['action'] ?? '';
    const logdesc = kv['logdesc'] ?? '';

    if (kv['type'] === 'event' && kv['subtype'] === 'vpn') {
      const remote = compact({ ip: ip(kv['remip']), port: toPort(kv['remport']) });
      const tunnelIp = ip(kv['tunnelip']) ?? ip(kv['assignip']);
      const src = { ...remote, ...(tunnelIp ? { intermediate_ips: [tunnelIp] } : {}) };
      if (action === 'tunnel-up' || action === 'tunnel-down') {
        const up = action === 'tunnel-up';
        return { ok: true, event: { ...OCSF.tunnelActivity, ...base, ...user, activity_id: up ? ACTIVITY.open : ACTIVITY.close, severity_id: SEVERITY.informational, status_id: STATUS.success, src_endpoint: src, is_remote: true } };
      }
      if (action === 'ssl-login-fail' || /login fail/i.test(logdesc)) {
        return { ok: true, event: { ...OCSF.authentication, ...base, ...user, activity_id: ACTIVITY.logon, severity_id: SEVERITY.low, status_id: STATUS.failure, src_endpoint: src, is_remote: true } };
      }
      return { ok: false, reason: `FortiGate VPN log with action "${action}" (${logdesc || 'no logdesc'}) has no mapping` };
    }
    if (kv['type'] === 'event' && kv['subtype'] === 'user' && (action === 'authentication' || /authentication/i.test(logdesc))) {
      const status = (kv['status'] ?? '').toLowerCase();
      const success = status === 'success' || /success/i.test(logdesc);
      const failure = status === 'failure' || status === 'failed' || /fail/i.test(logdesc);
      const srcIp = ip(kv['srcip']) ?? ip(kv['remip']);
      return {
        ok: true,
        event: {
          ...OCSF.authentication,
          ...base,
          ...user,
          activity_id: ACTIVITY.logon,
          severity_id: failure ? SEVERITY.low : SEVERITY.informational,
          status_id: success ? STATUS.success : failure ? STATUS.failure : STATUS.unknown,
          ...(srcIp ? { src_endpoint: { ip: srcIp } } : {}),
          ...(success ? declaredMfa(this.options.mfa) : {}),
        },
      };
    }
    if (kv['type'] === 'traffic') {
      const denied = action === 'deny' || action === 'blocked' || action === 'ip-conn';
      const event: EventDraft = {
        ...OCSF.networkActivity,
        ...base,
        ...user,
        activity_id: denied ? ACTIVITY.refuse : action === 'close' ? ACTIVITY.close : ACTIVITY.traffic,
        severity_id: denied ? SEVERITY.low : SEVERITY.informational,
        status_id: denied ? STATUS.failure : STATUS.success,
        src_endpoint: compact({ ip: ip(kv['srcip']), port: toPort(kv['srcport']) }),
        dst_endpoint: compact({ ip: ip(kv['dstip']), port: toPort(kv['dstport']) }),
      };
      return { ok: true, event };
    }
    return { ok: false, reason: `FortiGate log type "${kv['type'] ?? '?'}" subtype "${kv['subtype'] ?? '?'}" has no mapping` };
  }
}

function ip(v: string | undefined): string | undefined {
  return isIp(v) ? v : undefined;
}

/**
 * The event time: `eventtime` (seconds, or nanoseconds since FortiOS 6.2 — told apart by size)
 * when present, else `date` + `time` in the device's `tz` offset (UTC when absent).
 */
function fortiTime(kv: Record<string, string>): string | undefined {
  const et = kv['eventtime'];
  if (et && /^\d{10,19}$/.test(et)) {
    const digits = et.length;
    const ms = digits >= 19 ? Number(BigInt(et) / 1_000_000n) : digits >= 16 ? Number(BigInt(et) / 1000n) : digits >= 13 ? Number(et) : Number(et) * 1000;
    if (Number.isFinite(ms)) return new Date(ms).toISOString();
  }
  const date = kv['date'];
  const time = kv['time'];
  if (date && time && /^\d{4}-\d{2}-\d{2}$/.test(date) && /^\d{2}:\d{2}:\d{2}$/.test(time)) {
    const tz = kv['tz'] && /^[+-]\d{4}$/.test(kv['tz']) ? `${kv['tz'].slice(0, 3)}:${kv['tz'].slice(3)}` : 'Z';
    const t = Date.parse(`${date}T${time}${tz}`);
    if (!Number.isNaN(t)) return new Date(t).toISOString();
  }
  return undefined;
}
