import { describe, expect, it } from 'vitest';
import { FortiGateParser } from '../parsers/fortigate.parser';
import { OpenVpnParser } from '../parsers/openvpn.parser';
import { SshdParser } from '../parsers/sshd.parser';
import { Normaliser, type Arrival } from './normaliser';

const normaliser = new Normaliser([new FortiGateParser({ mfa: 'unknown' }), new OpenVpnParser({ mfa: 'unknown' }), new SshdParser({ pamSecondFactor: false, correlationWindowMs: 120_000 })]);
const arrival: Arrival = { transport: 'tcp', peer: { ip: '127.0.0.1', port: 40000 }, receivedAt: new Date('2026-11-30T15:00:00Z') };

describe('Normaliser', () => {
  it('chooses the parser by app-name and takes the time from the syslog header', () => {
    const n = normaliser.fromSyslog('<38>1 2026-11-30T14:59:01Z bastion sshd 4711 - - Accepted password for jdoe from 203.0.113.7 port 51234 ssh2', arrival);
    expect(n.parser).toBe('sshd');
    expect(n.event).toMatchObject({ class_uid: 3002, time: '2026-11-30T14:59:01Z', metadata: { product: { name: 'OpenSSH sshd' }, log_name: 'sshd' }, unmapped: { receiver: { transport: 'tcp', peer_ip: '127.0.0.1' }, syslog: { hostname: 'bastion', app_name: 'sshd' } } });
    expect(n.event.uid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('chooses the parser by content when the app-name is not one it knows', () => {
    const n = normaliser.fromSyslog("<29>Nov 30 14:59:01 vpn1 vpnd[12]: 203.0.113.7:51234 TLS: Username/Password authentication succeeded for username 'jdoe'", arrival);
    expect([n.parser, n.event.class_uid, n.event.user?.name]).toEqual(['openvpn', 3002, 'jdoe']);
  });

  it('keeps a message no parser knows as class 0 with raw_data and the reason', () => {
    const raw = '<13>Nov 30 14:59:01 host cron[1]: (root) CMD (run-parts /etc/cron.hourly)';
    const n = normaliser.fromSyslog(raw, arrival);
    expect(n).toMatchObject({ parser: 'none', unparsed: 'IT_EVENTS.NO_PARSER', event: { class_uid: 0, category_uid: 0, severity_id: 0, raw_data: raw, time: '2026-11-30T14:59:01.000Z', unmapped: { reason_code: 'IT_EVENTS.NO_PARSER', reason: 'no parser for app-name "cron" recognises this message' } } });
  });

  it('keeps a line its parser does not understand as class 0 under that product', () => {
    const n = normaliser.fromSyslog('<13>Nov 30 14:59:01 vpn1 openvpn[9]: Initialization Sequence Completed', arrival);
    expect(n).toMatchObject({ unparsed: 'IT_EVENTS.UNRECOGNISED_LINE', event: { class_uid: 0, metadata: { product: { name: 'OpenVPN' } } } });
  });

  it('keeps input without a syslog header as class 0, timed at receipt', () => {
    const n = normaliser.fromSyslog('hello there', arrival);
    expect(n).toMatchObject({ unparsed: 'IT_EVENTS.BAD_SYSLOG_HEADER', event: { class_uid: 0, raw_data: 'hello there', time: '2026-11-30T15:00:00.000Z' } });
  });

  it('reads a JSON body inside a syslog message as OCSF', () => {
    const n = normaliser.fromSyslog('<14>1 2026-11-30T14:59:01Z edr sensor - - - {"class_uid":2004,"activity_id":1,"time":1795590300000,"severity_id":4,"metadata":{"product":{"name":"EDR"}}}', arrival);
    expect([n.parser, n.event.class_uid, n.event.severity_id]).toEqual(['ocsf', 2004, 4]);
  });

  it('maps an ECS log line shipped by Filebeat through the syslog parser its process.name names', () => {
    const n = normaliser.fromJson({ '@timestamp': '2026-11-30T14:00:00Z', message: 'Failed password for root from 198.51.100.23 port 40022 ssh2', process: { name: 'sshd' }, host: { name: 'bastion' } }, arrival);
    expect([n.parser, n.event.status_id, n.event.time]).toEqual(['sshd', 2, '2026-11-30T14:00:00Z']);
  });

  it('maps an ECS alert to a Detection Finding', () => {
    const n = normaliser.fromJson({ '@timestamp': '2026-11-30T14:00:00Z', event: { kind: 'alert', category: ['malware'] }, rule: { name: 'Mimikatz' }, host: { name: 'eng-ws-01' }, observer: { product: 'Defender', vendor: 'Microsoft' } }, arrival);
    expect(n.event).toMatchObject({ class_uid: 2004, category_uid: 2, severity_id: 3, message: 'Mimikatz', dst_endpoint: { hostname: 'eng-ws-01' }, metadata: { product: { name: 'Defender', vendor_name: 'Microsoft' } } });
  });

  it('keeps a JSON document that is neither OCSF nor ECS as class 0', () => {
    const n = normaliser.fromJson({ hello: 'world' }, arrival);
    expect(n).toMatchObject({ unparsed: 'IT_EVENTS.UNMAPPED_JSON', event: { class_uid: 0, raw_data: '{"hello":"world"}' } });
  });

  it('keeps an invalid OCSF document as class 0 with the schema problem', () => {
    const n = normaliser.fromJson({ class_uid: 3002, activity_id: 1, time: 'soon', severity_id: 1, metadata: { product: { name: 'x' } } }, arrival);
    expect(n).toMatchObject({ unparsed: 'IT_EVENTS.INVALID_OCSF', event: { class_uid: 0, unmapped: { reason: expect.stringContaining('time') } } });
  });
});
