import { ACTIVITY, declaredMfa, isIp, OCSF, SEVERITY, STATUS, type EventDraft, type MfaDeclaration, type ParseResult } from '../normalise/ocsf';
import type { SyslogMessage } from '../syslog/syslog-message';
import type { SyslogParser } from './syslog-parser';

/** Settings of the GlobalProtect parser. */
export interface GlobalProtectParserOptions {
  /** The log names the authentication method (LDAP, SAML, RADIUS, ...) but not whether the IdP asked a second factor: the operator declares it. */
  mfa: MfaDeclaration;
}

// Positions in the PAN-OS GlobalProtect syslog CSV (PAN-OS 9.1.3+ / 10.x "GlobalProtect Log Fields").
const F = { type: 3, generatedTime: 6, vsys: 7, eventId: 8, stage: 9, authMethod: 10, tunnelType: 11, user: 12, region: 13, machine: 14, publicIp: 15, publicIpv6: 16, privateIp: 17, privateIpv6: 18, clientVersion: 21, clientOs: 22, reason: 25, error: 26, description: 27, status: 28, portal: 33 } as const;

// PAN-OS writes an absent address as 0.0.0.0 or an all-zero IPv6 (`0:0:0:0:0:0:0:0`).
function isSpecified(ip: string | undefined): ip is string {
  return isIp(ip) && ip !== '0.0.0.0' && !/^[0:]+$/.test(ip);
}

/** Splits one CSV record; fields may be double-quoted (with "" for a quote) and then hold commas. */
export function splitCsv(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out;
}

/**
 * Palo Alto Networks GlobalProtect logs as PAN-OS sends them over syslog (CSV,
 * type `GLOBALPROTECT`): portal/gateway authentication (3002), gateway
 * connected (4014 open, the private address in `intermediate_ips`), gateway
 * logout (4014 close). PAN-OS puts no TAG before the CSV: the content decides.
 */
export class GlobalProtectParser implements SyslogParser {
  readonly name = 'globalprotect';
  readonly product = { name: 'GlobalProtect', vendor_name: 'Palo Alto Networks' };

  constructor(private readonly options: GlobalProtectParserOptions) {}

  claims(m: SyslogMessage): boolean {
    return m.appName !== undefined && /^globalprotect$/i.test(m.appName);
  }

  recognises(m: SyslogMessage): boolean {
    return /^[^,]*,[^,]*,[^,]*,GLOBALPROTECT,/.test(m.msg);
  }

  parse(m: SyslogMessage): ParseResult {
    const f = splitCsv(m.msg);
    if (f[F.type] !== 'GLOBALPROTECT' || f.length <= F.status) return { ok: false, reason: `GlobalProtect CSV with ${f.length} fields; expected type GLOBALPROTECT and at least ${F.status + 1}` };
    const at = (i: number): string | undefined => {
      const v = f[i]?.trim();
      return v ? v : undefined;
    };
    const eventId = at(F.eventId) ?? '';
    const status = (at(F.status) ?? '').toLowerCase();
    const publicIp = [at(F.publicIp), at(F.publicIpv6)].find(isSpecified);
    const assigned = [at(F.privateIp), at(F.privateIpv6)].filter(isSpecified);
    const user = at(F.user);
    const unmapped: Record<string, string> = {};
    for (const [k, i] of Object.entries({ event_id: F.eventId, stage: F.stage, auth_method: F.authMethod, tunnel_type: F.tunnelType, source_region: F.region, machine_name: F.machine, client_version: F.clientVersion, client_os: F.clientOs, reason: F.reason, error: F.error, portal: F.portal, virtual_system: F.vsys })) {
      const v = at(i);
      if (v) unmapped[k] = v;
    }
    const base = {
      product: this.product,
      message: at(F.description) ?? `GlobalProtect ${eventId} ${status}`.trim(),
      is_remote: true as const,
      ...(at(F.generatedTime) ? { originalTime: at(F.generatedTime)! } : {}),
      ...(user ? { user: { name: user } } : {}),
      ...(publicIp || assigned.length ? { src_endpoint: { ...(publicIp ? { ip: publicIp } : {}), ...(assigned.length ? { intermediate_ips: assigned } : {}) } } : {}),
      unmapped,
    };
    if (eventId === 'portal-auth' || eventId === 'gateway-auth') {
      const success = status === 'success';
      const event: EventDraft = {
        ...OCSF.authentication,
        ...base,
        activity_id: ACTIVITY.logon,
        severity_id: success ? SEVERITY.informational : SEVERITY.low,
        status_id: success ? STATUS.success : status === 'failure' ? STATUS.failure : STATUS.unknown,
        ...(success ? declaredMfa(this.options.mfa) : {}),
      };
      return { ok: true, event };
    }
    if (eventId === 'gateway-connected' || eventId === 'gateway-logout') {
      const up = eventId === 'gateway-connected';
      return { ok: true, event: { ...OCSF.tunnelActivity, ...base, activity_id: up ? ACTIVITY.open : ACTIVITY.close, severity_id: SEVERITY.informational, status_id: status === 'failure' ? STATUS.failure : STATUS.success } };
    }
    return { ok: false, reason: `GlobalProtect event "${eventId}" has no mapping` };
  }
}
