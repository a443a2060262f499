import { describe, expect, it } from 'vitest';
import type { SyslogMessage } from '../syslog/syslog-message';
import { OpenVpnParser } from './openvpn.parser';

const line = (msg: string): SyslogMessage => ({ format: 'rfc3164', facility: 3, severity: 5, hostname: 'vpn1', appName: 'openvpn', msg });
const parser = new OpenVpnParser({ mfa: 'unknown' });

describe('OpenVpnParser', () => {
  it('maps a successful username/password authentication to a remote logon without is_mfa', () => {
    const r = parser.parse(line("203.0.113.7:51234 TLS: Username/Password authentication succeeded for username 'jdoe'"));
    expect(r).toMatchObject({ ok: true, event: { class_uid: 3002, activity_id: 1, status_id: 1, user: { name: 'jdoe' }, src_endpoint: { ip: '203.0.113.7', port: 51234 }, is_remote: true } });
    expect(r.ok && 'is_mfa' in r.event).toBe(false);
  });

  it('sets is_mfa true on a success when the operator declared the server always asks a second factor', () => {
    const r = new OpenVpnParser({ mfa: 'always' }).parse(line("203.0.113.7:51234 TLS: Username/Password authentication succeeded for username 'jdoe'"));
    expect(r.ok && r.event.is_mfa).toBe(true);
  });

  it('maps an auth verification failure to a failed logon with the client address', () => {
    const r = parser.parse(line('198.51.100.23:40022 TLS Auth Error: Auth Username/Password verification failed for peer'));
    expect(r).toMatchObject({ ok: true, event: { class_uid: 3002, status_id: 2, severity_id: 2, src_endpoint: { ip: '198.51.100.23', port: 40022 } } });
    expect(r.ok && r.event.user).toBeUndefined();
  });

  it('maps the pool assignment to a tunnel opening with the VPN address in intermediate_ips', () => {
    const r = parser.parse(line('jdoe/203.0.113.7:51234 MULTI_sva: pool returned IPv4=10.8.0.6, IPv6=(Not enabled)'));
    expect(r).toMatchObject({ ok: true, event: { class_uid: 4014, category_uid: 4, activity_id: 1, user: { name: 'jdoe' }, src_endpoint: { ip: '203.0.113.7', port: 51234, intermediate_ips: ['10.8.0.6'] } } });
  });

  it('maps Peer Connection Initiated to an opened network connection of the common name', () => {
    const r = parser.parse(line('203.0.113.7:51234 [jdoe] Peer Connection Initiated with [AF_INET]203.0.113.7:51234'));
    expect(r).toMatchObject({ ok: true, event: { class_uid: 4001, activity_id: 1, user: { name: 'jdoe' }, src_endpoint: { ip: '203.0.113.7' } } });
  });

  it('maps a client instance exiting to a tunnel close', () => {
    const r = parser.parse(line('jdoe/203.0.113.7:51234 SIGTERM[soft,remote-exit] received, client-instance exiting'));
    expect(r).toMatchObject({ ok: true, event: { class_uid: 4014, activity_id: 2, user: { name: 'jdoe' } } });
  });

  it('reports a line of the source it does not map, with a reason', () => {
    expect(parser.parse(line('jdoe/203.0.113.7:51234 MULTI: Learn: 10.8.0.6 -> jdoe/203.0.113.7:51234'))).toEqual({ ok: false, reason: expect.stringContaining('no security meaning') });
  });

  it('recognises its lines by content when the app-name says nothing', () => {
    expect(parser.recognises({ ...line("203.0.113.7:51234 TLS: Username/Password authentication succeeded for username 'jdoe'"), appName: 'daemon' })).toBe(true);
    expect(parser.claims({ ...line('x'), appName: 'ovpn-server' })).toBe(true);
  });
});
