import { describe, expect, it } from 'vitest';
import type { SyslogMessage } from '../syslog/syslog-message';
import { GlobalProtectParser, splitCsv } from './globalprotect.parser';

const line = (msg: string): SyslogMessage => ({ format: 'rfc3164', facility: 1, severity: 6, hostname: 'PA-VM', msg });
const parser = new GlobalProtectParser({ mfa: 'unknown' });

// Field order of PAN-OS "GlobalProtect Log Fields": ..., Event ID (8), Stage, Authentication Method, Tunnel Type,
// Source User (12), Source Region, Machine Name, Public IP (15), Public IPv6, Private IP (17), Private IPv6, Host ID,
// Serial Number, Client Version, Client OS, Client OS Version, Repeat Count, Reason, Error, Description (27), Status (28), ...
const gp = (eventId: string, status: string, description = '') =>
  `1,2026/11/25 08:05:01,012801000001,GLOBALPROTECT,0,2561,2026/11/25 08:05:00,vsys1,${eventId},login,LDAP,SSL,corp\\kate,DE,LAPTOP-9,203.0.113.20,0.0.0.0,10.30.0.7,0:0:0:0:0:0:0:0,host-1,SN1,6.2.1,Microsoft Windows,10,1,,,"${description}",${status},,0,user-logon,0,gp-portal,1234,0x0`;

describe('GlobalProtectParser', () => {
  it('splits quoted CSV fields that hold commas', () => {
    expect(splitCsv('a,"b, c",d')).toEqual(['a', 'b, c', 'd']);
  });

  it('maps gateway-connected to a tunnel opening with the public address and the private one in intermediate_ips', () => {
    const r = parser.parse(line(gp('gateway-connected', 'success', 'GlobalProtect gateway user login succeeded')));
    expect(r).toMatchObject({ ok: true, event: { class_uid: 4014, activity_id: 1, status_id: 1, user: { name: 'corp\\kate' }, src_endpoint: { ip: '203.0.113.20', intermediate_ips: ['10.30.0.7'] }, is_remote: true, originalTime: '2026/11/25 08:05:00', unmapped: { auth_method: 'LDAP', tunnel_type: 'SSL' } } });
  });

  it('maps a failed gateway-auth to a failed remote logon', () => {
    const r = parser.parse(line(gp('gateway-auth', 'failure', 'Authentication failed: Invalid username or password')));
    expect(r).toMatchObject({ ok: true, event: { class_uid: 3002, status_id: 2, severity_id: 2, is_remote: true, message: 'Authentication failed: Invalid username or password' } });
    expect(r.ok && 'is_mfa' in r.event).toBe(false);
  });

  it('applies the MFA declaration to a successful portal-auth', () => {
    const r = new GlobalProtectParser({ mfa: 'always' }).parse(line(gp('portal-auth', 'success')));
    expect(r.ok && [r.event.class_uid, r.event.status_id, r.event.is_mfa]).toEqual([3002, 1, true]);
  });

  it('maps gateway-logout to a tunnel close', () => {
    const r = parser.parse(line(gp('gateway-logout', 'success')));
    expect(r.ok && [r.event.class_uid, r.event.activity_id]).toEqual([4014, 2]);
  });

  it('recognises the CSV by its GLOBALPROTECT type and reports events it does not map', () => {
    expect(parser.recognises(line(gp('gateway-getconfig', 'success')))).toBe(true);
    expect(parser.parse(line(gp('gateway-getconfig', 'success')))).toEqual({ ok: false, reason: 'GlobalProtect event "gateway-getconfig" has no mapping' });
  });
});
