import { ACTIVITY, compact, declaredMfa, OCSF, SEVERITY, STATUS, toPort, type EventDraft, type MfaDeclaration, type ParseResult } from '../normalise/ocsf';
import type { SyslogMessage } from '../syslog/syslog-message';
import type { SyslogParser } from './syslog-parser';

// OpenVPN server lines start with the client: `cn/ip:port ` once the common name is known, `ip:port ` before.
// IPv6 peers are written without brackets, so the port is whatever follows the last colon.
const PEER = /^(?:([^\s/]+)\/)?(?:\[AF_INET6?\])?([0-9A-Fa-f.:]+):(\d{1,5}) (.*)$/s;

const AUTH_RESULT = /^TLS: Username\/Password authentication (succeeded|failed|deferred) for username '([^']*)'/;
const AUTH_FAILED = /^(?:TLS Auth Error: Auth Username\/Password verification failed for peer|TLS Error: Auth Username\/Password was not provided by peer|WARNING: Failed running command \(--auth-user-pass-verify\))/;
const POOL = /^MULTI_sva: pool returned IPv4=([^,\s]+), IPv6=(.+)$/;
const PEER_INITIATED = /^\[([^\]]*)\] Peer Connection Initiated with \[AF_INET6?\]/;
const CLOSED = /^(?:SIG(?:TERM|USR1)\[[^\]]*\] received, client-instance (?:exiting|restarting)|Connection reset, restarting)/;
const HANDSHAKE_FAILED = /^TLS Error: TLS handshake failed/;

/** Settings of the OpenVPN parser. */
export interface OpenVpnParserOptions {
  /** OpenVPN's log never says which factors were checked (a static-challenge OTP is not logged): the operator declares it. */
  mfa: MfaDeclaration;
}

/**
 * OpenVPN server (`--mode server`) lines: username/password results (3002),
 * the address handed out from the pool (4014 open, with the tunnel address in
 * `src_endpoint.intermediate_ips`), the control channel coming up (4001),
 * client instances ending (4014 close) and failed TLS handshakes (4001 fail).
 */
export class OpenVpnParser implements SyslogParser {
  readonly name = 'openvpn';
  readonly product = { name: 'OpenVPN', vendor_name: 'OpenVPN' };

  constructor(private readonly options: OpenVpnParserOptions) {}

  claims(m: SyslogMessage): boolean {
    return m.appName !== undefined && /^(openvpn|ovpn)([-_.@].*)?$/i.test(m.appName);
  }

  recognises(m: SyslogMessage): boolean {
    const peer = PEER.exec(m.msg);
    const text = peer?.[4] ?? '';
    return AUTH_RESULT.test(text) || POOL.test(text) || PEER_INITIATED.test(text);
  }

  parse(m: SyslogMessage): ParseResult {
    const peer = PEER.exec(m.msg);
    if (!peer) return { ok: false, reason: 'OpenVPN line does not start with a client address (cn/ip:port)' };
    const [, commonName, ip, port, text] = peer as unknown as [string, string | undefined, string, string, string];
    const src = compact({ ip, port: toPort(port) });
    const base = { product: this.product, message: m.msg, is_remote: true as const };

    const auth = AUTH_RESULT.exec(text);
    if (auth) {
      if (auth[1] === 'deferred') return { ok: false, reason: 'OpenVPN deferred authentication: the result follows in a later line' };
      const success = auth[1] === 'succeeded';
      return { ok: true, event: this.logon(base, src, auth[2]!, success) };
    }
    if (AUTH_FAILED.test(text)) return { ok: true, event: this.logon(base, src, commonName, false) };

    const pool = POOL.exec(text);
    if (pool) {
      const assigned = [pool[1]!, pool[2]!].filter((a) => !a.startsWith('(') && a !== '');
      const event: EventDraft = {
        ...OCSF.tunnelActivity,
        ...base,
        activity_id: ACTIVITY.open,
        severity_id: SEVERITY.informational,
        status_id: STATUS.success,
        src_endpoint: { ...src, ...(assigned.length ? { intermediate_ips: assigned } : {}) },
        ...(commonName ? { user: { name: commonName } } : {}),
      };
      return { ok: true, event };
    }
    const initiated = PEER_INITIATED.exec(text);
    if (initiated) {
      return { ok: true, event: { ...OCSF.networkActivity, ...base, activity_id: ACTIVITY.open, severity_id: SEVERITY.informational, status_id: STATUS.success, src_endpoint: src, ...(initiated[1] ? { user: { name: initiated[1] } } : {}) } };
    }
    if (CLOSED.test(text)) {
      return { ok: true, event: { ...OCSF.tunnelActivity, ...base, activity_id: ACTIVITY.close, severity_id: SEVERITY.informational, src_endpoint: src, ...(commonName ? { user: { name: commonName } } : {}) } };
    }
    if (HANDSHAKE_FAILED.test(text)) {
      return { ok: true, event: { ...OCSF.networkActivity, ...base, activity_id: ACTIVITY.fail, severity_id: SEVERITY.low, status_id: STATUS.failure, src_endpoint: src } };
    }
    return { ok: false, reason: 'OpenVPN line with no security meaning we map (not an authentication, pool assignment, connection or disconnection)' };
  }

  private logon(base: { product: EventDraft['product']; message: string; is_remote: true }, src: EventDraft['src_endpoint'], user: string | undefined, success: boolean): EventDraft {
    return {
      ...OCSF.authentication,
      ...base,
      activity_id: ACTIVITY.logon,
      severity_id: success ? SEVERITY.informational : SEVERITY.low,
      status_id: success ? STATUS.success : STATUS.failure,
      ...(src ? { src_endpoint: src } : {}),
      ...(user ? { user: { name: user } } : {}),
      // A failed logon used no factor worth claiming; success depends on how the server is set up.
      ...(success ? declaredMfa(this.options.mfa) : {}),
    };
  }
}
