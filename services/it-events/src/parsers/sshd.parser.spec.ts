import { describe, expect, it } from 'vitest';
import type { SyslogMessage } from '../syslog/syslog-message';
import { SshdParser } from './sshd.parser';

const line = (msg: string, appName = 'sshd'): SyslogMessage => ({ format: 'rfc3164', facility: 10, severity: 6, hostname: 'bastion', appName, procId: '4711', msg });
const make = (pamSecondFactor = false, clock = { t: 0 }) => new SshdParser({ pamSecondFactor, correlationWindowMs: 120_000, now: () => clock.t });

describe('SshdParser', () => {
  it('maps Accepted password to a successful remote logon that is not MFA', () => {
    const r = make().parse(line('Accepted password for jdoe from 203.0.113.7 port 51234 ssh2'));
    expect(r).toMatchObject({ ok: true, event: { class_uid: 3002, activity_id: 1, status_id: 1, user: { name: 'jdoe' }, src_endpoint: { ip: '203.0.113.7', port: 51234 }, is_remote: true, is_mfa: false, unmapped: { auth_method: 'password' } } });
  });

  it('maps Accepted publickey to a single-factor logon and keeps the key fingerprint', () => {
    const r = make().parse(line('Accepted publickey for deploy from 10.0.0.5 port 40000 ssh2: ED25519 SHA256:Xx1'));
    expect(r).toMatchObject({ ok: true, event: { is_mfa: false, unmapped: { auth_method: 'publickey', key: 'ED25519 SHA256:Xx1' } } });
  });

  it('leaves is_mfa absent for keyboard-interactive/pam when nothing shows a second factor', () => {
    const r = make().parse(line('Accepted keyboard-interactive/pam for jdoe from 203.0.113.7 port 51234 ssh2'));
    expect(r.ok && r.event.status_id).toBe(1);
    expect(r.ok && 'is_mfa' in r.event).toBe(false);
  });

  it('sets is_mfa for keyboard-interactive/pam when the PAM stack is declared to ask a second factor', () => {
    const r = make(true).parse(line('Accepted keyboard-interactive/pam for jdoe from 203.0.113.7 port 51234 ssh2'));
    expect(r.ok && r.event.is_mfa).toBe(true);
  });

  it('sets is_mfa when a Partial publickey precedes Accepted keyboard-interactive/pam for the same connection', () => {
    const p = make();
    const partial = p.parse(line('Partial publickey for jdoe from 203.0.113.7 port 51234 ssh2: ED25519 SHA256:Xx1'));
    expect(partial).toMatchObject({ ok: true, event: { status_id: 99, unmapped: { auth_step: 'partial' } } });
    const r = p.parse(line('Accepted keyboard-interactive/pam for jdoe from 203.0.113.7 port 51234 ssh2'));
    expect(r.ok && r.event.is_mfa).toBe(true);
  });

  it('does not carry a Partial over to another connection of the same user', () => {
    const p = make();
    p.parse(line('Partial publickey for jdoe from 203.0.113.7 port 51234 ssh2'));
    const r = p.parse(line('Accepted password for jdoe from 203.0.113.7 port 51999 ssh2'));
    expect(r.ok && r.event.is_mfa).toBe(false);
  });

  it('sets is_mfa when pam_google_authenticator accepted a code for the user just before', () => {
    const clock = { t: 1_000 };
    const p = make(false, clock);
    const step = p.parse(line('Accepted google_authenticator for jdoe', 'sshd(pam_google_authenticator)'));
    expect(step).toMatchObject({ ok: true, event: { class_uid: 3002, status_id: 99, unmapped: { auth_step: 'second-factor' } } });
    clock.t = 5_000;
    const r = p.parse(line('Accepted keyboard-interactive/pam for jdoe from 203.0.113.7 port 51234 ssh2'));
    expect(r.ok && r.event.is_mfa).toBe(true);
  });

  it('ignores a second-factor line older than the correlation window', () => {
    const clock = { t: 0 };
    const p = make(false, clock);
    p.parse(line('Accepted google_authenticator for jdoe', 'sshd(pam_google_authenticator)'));
    clock.t = 121_000;
    const r = p.parse(line('Accepted keyboard-interactive/pam for jdoe from 203.0.113.7 port 51234 ssh2'));
    expect(r.ok && 'is_mfa' in r.event).toBe(false);
  });

  it('maps Failed password for an invalid user to a failure marked invalid_user', () => {
    const r = make().parse(line('Failed password for invalid user admin from 198.51.100.23 port 40022 ssh2'));
    expect(r).toMatchObject({ ok: true, event: { status_id: 2, severity_id: 2, user: { name: 'admin' }, src_endpoint: { ip: '198.51.100.23', port: 40022 }, unmapped: { invalid_user: true } } });
    expect(r.ok && 'is_mfa' in r.event).toBe(false);
  });

  it('maps Invalid user to a failed logon', () => {
    const r = make().parse(line('Invalid user oracle from 198.51.100.23 port 40100'));
    expect(r).toMatchObject({ ok: true, event: { class_uid: 3002, status_id: 2, user: { name: 'oracle' }, src_endpoint: { ip: '198.51.100.23', port: 40100 } } });
  });

  it('maps Disconnected from user to a logoff', () => {
    const r = make().parse(line('Disconnected from user jdoe 203.0.113.7 port 51234'));
    expect(r).toMatchObject({ ok: true, event: { activity_id: 2, user: { name: 'jdoe' } } });
  });

  it('marks a logon from loopback as not remote', () => {
    const r = make().parse(line('Accepted password for jdoe from 127.0.0.1 port 51234 ssh2'));
    expect(r.ok && r.event.is_remote).toBe(false);
  });

  it('reports other sshd lines with a reason', () => {
    expect(make().parse(line('Connection closed by 198.51.100.23 port 40022 [preauth]'))).toEqual({ ok: false, reason: expect.stringContaining('not an authentication result') });
  });

  it('claims sshd, sshd-session and sshd(pam_module) app-names', () => {
    const p = make();
    expect(['sshd', 'sshd-session', 'sshd(pam_unix)'].map((a) => p.claims(line('x', a)))).toEqual([true, true, true]);
    expect(p.claims(line('x', 'sudo'))).toBe(false);
  });
});
