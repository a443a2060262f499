import { describe, expect, it } from 'vitest';
import type { SyslogMessage } from '../syslog/syslog-message';
import { FortiGateParser } from './fortigate.parser';

const line = (msg: string): SyslogMessage => ({ format: 'rfc3164', facility: 23, severity: 5, msg });
const parser = new FortiGateParser({ mfa: 'unknown' });

const TUNNEL_UP =
  'date=2026-11-25 time=08:05:00 devname="FGT-EDGE" devid="FG100F0000000001" eventtime=1795590300000000000 tz="+0100" logid="0101039424" type="event" subtype="vpn" level="information" vd="root" logdesc="SSL VPN tunnel up" action="tunnel-up" tunneltype="ssl-tunnel" tunnelid=1234 remip=203.0.113.7 tunnelip=10.212.134.200 user="jdoe" group="vpn-users" dst_host="N/A" reason="tunnel established" msg="SSL tunnel established"';
const LOGIN_FAIL =
  'date=2026-11-25 time=08:04:10 devname="FGT-EDGE" devid="FG100F0000000001" tz="+0100" logid="0101039426" type="event" subtype="vpn" level="alert" vd="root" logdesc="SSL VPN login fail" action="ssl-login-fail" tunneltype="ssl-web" tunnelid=0 remip=198.51.100.23 user="admin" group="N/A" dst_host="N/A" reason="sslvpn_login_permission_denied" msg="SSL user failed to logged in"';

describe('FortiGateParser', () => {
  it('maps SSL VPN tunnel-up to a tunnel opening with remote and tunnel addresses, time from eventtime (ns)', () => {
    const r = parser.parse(line(TUNNEL_UP));
    expect(r).toMatchObject({
      ok: true,
      event: { class_uid: 4014, activity_id: 1, user: { name: 'jdoe' }, src_endpoint: { ip: '203.0.113.7', intermediate_ips: ['10.212.134.200'] }, is_remote: true, time: '2026-11-25T07:05:00.000Z', message: 'SSL tunnel established' },
    });
    expect(r.ok && r.event.unmapped).toMatchObject({ logid: '0101039424', tunneltype: 'ssl-tunnel', group: 'vpn-users' });
  });

  it('maps SSL VPN login fail to a failed remote logon, time from date, time and tz', () => {
    const r = parser.parse(line(LOGIN_FAIL));
    expect(r).toMatchObject({ ok: true, event: { class_uid: 3002, status_id: 2, user: { name: 'admin' }, src_endpoint: { ip: '198.51.100.23' }, is_remote: true, time: '2026-11-25T07:04:10.000Z' } });
  });

  it('maps tunnel-down to a tunnel close', () => {
    const r = parser.parse(line(TUNNEL_UP.replace('action="tunnel-up"', 'action="tunnel-down"').replace('logdesc="SSL VPN tunnel up"', 'logdesc="SSL VPN tunnel down"')));
    expect(r).toMatchObject({ ok: true, event: { class_uid: 4014, activity_id: 2 } });
  });

  it('maps a user authentication success and applies the MFA declaration', () => {
    const r = new FortiGateParser({ mfa: 'always' }).parse(line('date=2026-11-25 time=08:00:00 logid="0102043008" type="event" subtype="user" logdesc="Authentication success" srcip=10.1.2.3 user="jdoe" action="authentication" status="success"'));
    expect(r).toMatchObject({ ok: true, event: { class_uid: 3002, status_id: 1, is_mfa: true, src_endpoint: { ip: '10.1.2.3' } } });
  });

  it('maps a denied traffic log to a refused network activity', () => {
    const r = parser.parse(line('date=2026-11-25 time=08:00:00 logid="0000000013" type="traffic" subtype="forward" srcip=10.1.2.3 srcport=50000 dstip=10.20.0.5 dstport=502 proto=6 action="deny" policyid=7'));
    expect(r).toMatchObject({ ok: true, event: { class_uid: 4001, activity_id: 5, status_id: 2, src_endpoint: { ip: '10.1.2.3', port: 50000 }, dst_endpoint: { ip: '10.20.0.5', port: 502 } } });
  });

  it('reports a VPN log with an action it does not map', () => {
    expect(parser.parse(line('logid="0101037127" type="event" subtype="vpn" logdesc="Progress IPsec phase 1" action="negotiate"'))).toEqual({ ok: false, reason: 'FortiGate VPN log with action "negotiate" (Progress IPsec phase 1) has no mapping' });
  });

  it('recognises FortiGate logs by logid and type', () => {
    expect(parser.recognises(line(TUNNEL_UP))).toBe(true);
    expect(parser.recognises(line('type=event but no id'))).toBe(false);
  });
});
