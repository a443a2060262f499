import { describe, expect, it } from 'vitest';
import { parseSyslog } from './syslog-message';

const received = new Date('2026-11-30T15:00:00Z');

describe('parseSyslog', () => {
  it('reads an RFC 5424 header as util-linux logger writes it, structured data included', () => {
    const r = parseSyslog('<13>1 2026-11-30T15:09:09.875302+00:00 vm sshd 25072 - [timeQuality tzKnown="1" isSynced="0"] Accepted password for jdoe', received);
    expect(r).toEqual({
      ok: true,
      message: {
        format: 'rfc5424',
        facility: 1,
        severity: 5,
        time: '2026-11-30T15:09:09.875302+00:00',
        originalTime: '2026-11-30T15:09:09.875302+00:00',
        hostname: 'vm',
        appName: 'sshd',
        procId: '25072',
        structuredData: { timeQuality: { tzKnown: '1', isSynced: '0' } },
        msg: 'Accepted password for jdoe',
      },
    });
  });

  it('unescapes \\" \\\\ and \\] in structured data values', () => {
    const r = parseSyslog('<165>1 2026-11-30T15:00:00Z h app - ID47 [x@32473 a="q\\"u\\\\o\\]te"] msg', received);
    expect(r.ok && r.message.structuredData).toEqual({ 'x@32473': { a: 'q"u\\o]te' } });
    expect(r.ok && r.message.msgId).toBe('ID47');
    expect(r.ok && r.message.facility).toBe(20);
  });

  it('leaves nil fields (-) absent and strips a UTF-8 BOM from MSG', () => {
    const r = parseSyslog('<14>1 - - - - - - \ufeffhello', received);
    expect(r).toEqual({ ok: true, message: { format: 'rfc5424', facility: 1, severity: 6, msg: 'hello' } });
  });

  it('refuses an RFC 5424 header with a bad timestamp, saying so', () => {
    const r = parseSyslog('<13>1 yesterday host app - - - x', received);
    expect(r).toEqual({ ok: false, reason: 'RFC 5424 TIMESTAMP "yesterday" is not an RFC 3339 time' });
  });

  it('reads an RFC 3164 line with a TAG and pid; the year is the year of receipt, the zone UTC', () => {
    const r = parseSyslog('<38>Nov 30 14:59:01 bastion sshd[4711]: Failed password for root from 198.51.100.23 port 40022 ssh2', received);
    expect(r).toEqual({
      ok: true,
      message: {
        format: 'rfc3164',
        facility: 4,
        severity: 6,
        time: '2026-11-30T14:59:01.000Z',
        originalTime: 'Nov 30 14:59:01',
        hostname: 'bastion',
        appName: 'sshd',
        procId: '4711',
        msg: 'Failed password for root from 198.51.100.23 port 40022 ssh2',
      },
    });
  });

  it('puts a December line received in January into the previous year', () => {
    const r = parseSyslog('<13>Dec 31 23:59:59 h app: x', new Date('2027-01-01T00:00:10Z'));
    expect(r.ok && r.message.time).toBe('2026-12-31T23:59:59.000Z');
  });

  it('takes a FortiGate key=value message with no 3164 header as MSG, with no app-name', () => {
    const r = parseSyslog('<189>date=2026-11-25 time=08:05:00 devname="FGT" logid="0101039424" type="event"', received);
    expect(r).toEqual({ ok: true, message: { format: 'rfc3164', facility: 23, severity: 5, msg: 'date=2026-11-25 time=08:05:00 devname="FGT" logid="0101039424" type="event"' } });
  });

  it('reads an RFC 3164 line that carries an ISO timestamp (rsyslog forward format)', () => {
    const r = parseSyslog('<86>2026-11-30T14:00:00.123+01:00 vpn1 openvpn[900]: hello', received);
    expect(r.ok && [r.message.time, r.message.hostname, r.message.appName, r.message.procId, r.message.msg]).toEqual(['2026-11-30T14:00:00.123+01:00', 'vpn1', 'openvpn', '900', 'hello']);
  });

  it('reads a TAG with parentheses (a PAM module logging under sshd)', () => {
    const r = parseSyslog('<85>Nov 30 14:00:00 bastion sshd(pam_google_authenticator)[4711]: Accepted google_authenticator for jdoe', received);
    expect(r.ok && [r.message.appName, r.message.procId]).toEqual(['sshd(pam_google_authenticator)', '4711']);
  });

  it('refuses text without <PRI>', () => {
    expect(parseSyslog('GET / HTTP/1.1', received)).toEqual({ ok: false, reason: 'no <PRI> at the start (RFC 5424 and RFC 3164 both begin with <0..191>)' });
  });

  it('refuses a PRI above 191', () => {
    expect(parseSyslog('<192>Nov 30 14:00:00 h a: x', received)).toEqual({ ok: false, reason: 'PRI 192 is beyond 191' });
  });
});
