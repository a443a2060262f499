import { ACTIVITY, compact, fieldsOf, OCSF, SEVERITY, STATUS, toPort, type EventDraft, type ParseResult } from '../normalise/ocsf';
import type { SyslogMessage } from '../syslog/syslog-message';
import type { SyslogParser } from './syslog-parser';

const ACCEPTED = /^(Accepted|Partial|Failed) (\S+) for (invalid user )?(\S*) from (\S+) port (\d{1,5})(?: ssh2)?(?:: (.*))?$/;
const INVALID_USER = /^Invalid user (\S*) from (\S+)(?: port (\d{1,5}))?/;
const DISCONNECTED = /^Disconnected from user (\S+) (\S+) port (\d{1,5})/;
// pam_google_authenticator logs under `sshd(pam_google_authenticator)`; the text names the user.
const GOOGLE_AUTH = /^(Accepted|Failed) google_authenticator for (\S+)/;
const GOOGLE_AUTH_INVALID = /^Invalid verification code for (\S+)/;

// Methods that are one factor on their own; a keyboard-interactive (PAM) or GSSAPI logon may have
// asked for more than we can see, so it stays unknown unless a second factor shows up.
const SINGLE_FACTOR_METHODS = new Set(['password', 'publickey', 'hostbased']);

/** Settings of the sshd parser. */
export interface SshdParserOptions {
  /** The PAM stack behind keyboard-interactive asks for a second factor (an OTP module): such logons are MFA. */
  pamSecondFactor: boolean;
  /** How long a partial success or a second-factor line waits for its `Accepted` line, in ms. */
  correlationWindowMs: number;
  /** Most pending partial successes remembered (oldest dropped first). */
  maxPending?: number;
  now?: () => number;
}

interface Pending {
  method: string;
  at: number;
}

/**
 * OpenSSH sshd (and `sshd-session`, OpenSSH 9.8+) authentication lines, with
 * `is_mfa` decided from what the log shows (see the README's MFA rules):
 * `Partial <method>` before `Accepted <other method>` for the same connection
 * (AuthenticationMethods with two methods), a pam_google_authenticator
 * success for the user just before, or the `pamSecondFactor` declaration for
 * keyboard-interactive/pam.
 */
export class SshdParser implements SyslogParser {
  readonly name = 'sshd';
  readonly product = { name: 'OpenSSH sshd', vendor_name: 'OpenBSD' };
  private readonly partial = new Map<string, Pending>();
  private readonly secondFactor = new Map<string, number>();
  private readonly now: () => number;
  private readonly maxPending: number;

  constructor(private readonly options: SshdParserOptions) {
    this.now = options.now ?? Date.now;
    this.maxPending = options.maxPending ?? 10_000;
  }

  claims(m: SyslogMessage): boolean {
    return m.appName !== undefined && /^sshd(-session)?(\(.*\))?$/.test(m.appName);
  }

  recognises(m: SyslogMessage): boolean {
    return ACCEPTED.test(m.msg) || INVALID_USER.test(m.msg);
  }

  parse(m: SyslogMessage): ParseResult {
    const host = m.hostname ?? '';
    const base = { product: this.product, message: m.msg };
    const g = GOOGLE_AUTH.exec(m.msg) ?? (GOOGLE_AUTH_INVALID.test(m.msg) ? (['', 'Failed', GOOGLE_AUTH_INVALID.exec(m.msg)![1]!] as const) : null);
    if (g) {
      const ok = g[1] === 'Accepted';
      if (ok) this.remember(this.secondFactor, `${host}|${g[2]}`, this.now());
      // One step of a logon, not a logon: status Other on success so logon counts are not doubled.
      return {
        ok: true,
        event: { ...OCSF.authentication, ...base, activity_id: ACTIVITY.logon, severity_id: ok ? SEVERITY.informational : SEVERITY.low, status_id: ok ? STATUS.other : STATUS.failure, user: { name: g[2]! }, unmapped: { auth_step: 'second-factor', factor: 'google_authenticator' } },
      };
    }

    const a = ACCEPTED.exec(m.msg);
    if (a) {
      const [, verb, method, invalid, user, ip, port, detail] = a as unknown as [string, string, string, string | undefined, string, string, string, string | undefined];
      const src = compact({ ip, port: toPort(port) });
      const connection = `${host}|${user}|${ip}|${port}`;
      const event: EventDraft = {
        ...OCSF.authentication,
        ...base,
        activity_id: ACTIVITY.logon,
        severity_id: verb === 'Failed' ? SEVERITY.low : SEVERITY.informational,
        status_id: verb === 'Accepted' ? STATUS.success : verb === 'Failed' ? STATUS.failure : STATUS.other,
        src_endpoint: src,
        is_remote: !isLoopback(ip),
        ...(user ? { user: { name: user } } : {}),
        unmapped: fieldsOf({ auth_method: method, invalid_user: invalid ? true : undefined, auth_step: verb === 'Partial' ? 'partial' : undefined, key: detail }),
      };
      if (verb === 'Partial') {
        this.remember(this.partial, connection, { method, at: this.now() });
      } else if (verb === 'Accepted') {
        const mfa = this.mfaOf(method, connection, `${host}|${user}`);
        if (mfa !== undefined) event.is_mfa = mfa;
      }
      return { ok: true, event };
    }

    const inv = INVALID_USER.exec(m.msg);
    if (inv) {
      const src = compact({ ip: inv[2]!, port: toPort(inv[3]) });
      return {
        ok: true,
        event: { ...OCSF.authentication, ...base, activity_id: ACTIVITY.logon, severity_id: SEVERITY.low, status_id: STATUS.failure, src_endpoint: src, is_remote: !isLoopback(inv[2]!), ...(inv[1] ? { user: { name: inv[1] } } : {}), unmapped: { invalid_user: true } },
      };
    }
    const d = DISCONNECTED.exec(m.msg);
    if (d) {
      return { ok: true, event: { ...OCSF.authentication, ...base, activity_id: ACTIVITY.logoff, severity_id: SEVERITY.informational, status_id: STATUS.success, user: { name: d[1]! }, src_endpoint: compact({ ip: d[2]!, port: toPort(d[3]) }), is_remote: !isLoopback(d[2]!) } };
    }
    return { ok: false, reason: 'sshd line that is not an authentication result (Accepted, Partial, Failed, Invalid user, Disconnected)' };
  }

  private mfaOf(method: string, connection: string, userKey: string): boolean | undefined {
    const now = this.now();
    const partial = this.take(this.partial, connection, now);
    if (partial && partial.method !== method) return true;
    const second = this.take(this.secondFactor, userKey, now);
    if (method.startsWith('keyboard-interactive')) {
      if (second !== undefined || this.options.pamSecondFactor) return true;
      return undefined;
    }
    if (partial) return false; // the same method twice (two keys) is still one kind of factor
    return SINGLE_FACTOR_METHODS.has(method) ? false : undefined;
  }

  private take<V extends Pending | number>(map: Map<string, V>, key: string, now: number): V | undefined {
    const v = map.get(key);
    if (v === undefined) return undefined;
    map.delete(key);
    const at = typeof v === 'number' ? v : v.at;
    return now - at <= this.options.correlationWindowMs ? v : undefined;
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    // Maps iterate in insertion order: the first key is the oldest.
    while (map.size > this.maxPending) map.delete(map.keys().next().value!);
  }
}

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}
