import { describe, expect, it } from 'vitest';
import { isWindowsLogon, parseWindowsLogon } from './windows-logon.parser';

// As Winlogbeat 8 writes a Security 4624: event_data values are strings.
const rdpLogon = {
  '@timestamp': '2026-11-25T08:07:12.345Z',
  event: { code: '4624', kind: 'event', category: ['authentication'], outcome: 'success', action: 'logged-in' },
  host: { name: 'eng-ws-01.corp.example' },
  winlog: {
    channel: 'Security',
    event_id: '4624',
    computer_name: 'ENG-WS-01.corp.example',
    event_data: { LogonType: '10', TargetUserName: 'jdoe', TargetDomainName: 'CORP', TargetUserSid: 'S-1-5-21-1-2-3-1104', IpAddress: '10.8.0.6', IpPort: '0', WorkstationName: 'LAPTOP-7', LogonProcessName: 'User32', AuthenticationPackageName: 'Negotiate' },
  },
};

describe('Windows logon events (ECS)', () => {
  it('recognises 4624 by winlog.event_id', () => {
    expect(isWindowsLogon(rdpLogon)).toBe(true);
    expect(isWindowsLogon({ winlog: { event_id: 4688 } })).toBe(false);
  });

  it('maps an RDP logon (type 10) to a successful remote logon with user, domain, source and logon type', () => {
    const r = parseWindowsLogon(rdpLogon);
    expect(r).toMatchObject({
      ok: true,
      event: {
        class_uid: 3002,
        activity_id: 1,
        status_id: 1,
        time: '2026-11-25T08:07:12.345Z',
        user: { name: 'jdoe', domain: 'CORP', uid: 'S-1-5-21-1-2-3-1104' },
        src_endpoint: { ip: '10.8.0.6', hostname: 'LAPTOP-7' },
        dst_endpoint: { hostname: 'ENG-WS-01.corp.example' },
        logon_type_id: 10,
        is_remote: true,
        unmapped: { event_id: '4624', authentication_package: 'Negotiate' },
      },
    });
  });

  it('leaves is_mfa absent: 4624 does not record the factors used', () => {
    const r = parseWindowsLogon(rdpLogon);
    expect(r.ok && 'is_mfa' in r.event).toBe(false);
  });

  it('drops an IpPort of 0 rather than claiming port 0', () => {
    const r = parseWindowsLogon(rdpLogon);
    expect(r.ok && r.event.src_endpoint?.port).toBeUndefined();
  });

  it('maps a 4625 network logon failure from another machine to a failed remote logon with the failure codes', () => {
    const r = parseWindowsLogon({
      '@timestamp': '2026-11-25T08:10:00Z',
      event: { code: '4625', outcome: 'failure' },
      winlog: { event_id: 4625, event_data: { LogonType: '3', TargetUserName: 'administrator', TargetDomainName: 'CORP', IpAddress: '198.51.100.23', IpPort: '51515', Status: '0xc000006d', SubStatus: '0xc000006a', FailureReason: '%%2313' } },
    });
    expect(r).toMatchObject({ ok: true, event: { status_id: 2, severity_id: 2, logon_type_id: 3, is_remote: true, src_endpoint: { ip: '198.51.100.23', port: 51515 }, unmapped: { failure_status: '0xc000006d', failure_sub_status: '0xc000006a' } } });
  });

  it('marks a network logon (type 3) without a source address as not remote', () => {
    const r = parseWindowsLogon({ winlog: { event_id: '4624', event_data: { LogonType: '3', TargetUserName: 'svc', IpAddress: '-' } } });
    expect(r.ok && [r.event.is_remote, r.event.src_endpoint]).toEqual([false, undefined]);
  });

  it('marks an interactive logon (type 2) as not remote', () => {
    const r = parseWindowsLogon({ winlog: { event_id: '4624', event_data: { LogonType: '2', TargetUserName: 'op1' } } });
    expect(r.ok && r.event.is_remote).toBe(false);
  });

  it('reads flattened ECS keys as well as nested ones', () => {
    const r = parseWindowsLogon({ 'winlog.event_id': '4624', 'winlog.event_data.TargetUserName': 'jdoe', 'winlog.event_data.LogonType': '10' });
    expect(r.ok && [r.event.user?.name, r.event.logon_type_id]).toEqual(['jdoe', 10]);
  });
});
