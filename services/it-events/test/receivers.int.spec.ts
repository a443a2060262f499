import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { itSecurityEventsV1, topicName } from '@weir/contracts';
import { createMetricsRegistry, HealthRegistry, type Registry } from '@weir/observability';
import { capturingLogger, metricValue, removeTempDirs, tempDir, uniqueSuffix, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { itEventsSettingsSchema } from '../src/config';
import { startItEvents, type ItEvents } from '../src/it-events';
import { makeCertificates, run, TopicReader } from './test-support';

const LOGGER = '/usr/bin/logger';
const TOKEN = 'test-token-0123456789abcdef';

describe('it-events receivers against real clients and a real Kafka', () => {
  let service: ItEvents;
  let reader: TopicReader;
  let metrics: Registry;
  let health: HealthRegistry;
  let certs: Awaited<ReturnType<typeof makeCertificates>>;
  const prefix = uniqueTopicPrefix('it-events');

  beforeAll(async () => {
    certs = await makeCertificates(tempDir('tls'));
    const settings = itEventsSettingsSchema.parse({
      kafka: { brokers: inject('kafkaBrokers'), clientId: `it-events-test-${uniqueSuffix()}`, topicPrefix: prefix, partitions: 1 },
      syslog: {
        host: '127.0.0.1',
        tcp: { port: 0 },
        udp: { port: 0 },
        tls: { port: 0, certFile: certs.serverCert, keyFile: certs.serverKey, clientCaFile: certs.ca, requireClientCert: true },
        maxFrameBytes: 2048,
      },
      http: { port: 0, token: TOKEN },
    });
    const { logger } = capturingLogger('it-events-test');
    metrics = createMetricsRegistry('it-events', { defaultMetrics: false });
    health = new HealthRegistry();
    service = await startItEvents(settings, { logger, metrics, health });
    reader = new TopicReader(topicName(itSecurityEventsV1, prefix));
    await reader.start();
  });

  afterAll(async () => {
    await service?.stop();
    await reader?.stop();
    removeTempDirs();
  });

  const tcp = (...args: string[]) => run(LOGGER, ['-T', '-n', '127.0.0.1', '-P', String(service.ports.tcp), ...args]);
  const udp = (...args: string[]) => run(LOGGER, ['-d', '-n', '127.0.0.1', '-P', String(service.ports.udp), ...args]);
  const post = (body: string, contentType: string, path = '/v1/events', token = TOKEN) =>
    fetch(`http://127.0.0.1:${service.ports.http!}${path}`, { method: 'POST', headers: { 'content-type': contentType, authorization: `Bearer ${token}` }, body });

  it('is ready once every receiver listens', async () => {
    const report = await health.report('readiness');
    expect(report.status).toBe('ok');
    expect(report.checks['receivers']).toEqual({ ok: true, detail: 'tcp, tls, udp, http' });
  });

  it('maps an sshd password logon sent by logger over TCP with octet counting (RFC 5424)', async () => {
    await tcp('--octet-count', '--rfc5424', '-t', 'sshd', '--id=4711', 'Accepted password for alice-tcp from 203.0.113.7 port 51234 ssh2');
    const m = await reader.waitForEvent('sshd logon of alice-tcp', (e) => e.user?.name === 'alice-tcp');
    expect(m.key).toBe('203.0.113.7');
    expect(m.event).toMatchObject({ class_uid: 3002, activity_id: 1, status_id: 1, is_remote: true, is_mfa: false, src_endpoint: { ip: '203.0.113.7', port: 51234 }, metadata: { log_name: 'sshd' }, unmapped: { receiver: { transport: 'tcp' }, syslog: { format: 'rfc5424', app_name: 'sshd', proc_id: '4711' } } });
  });

  it('maps an OpenVPN pool assignment sent by logger over TCP with LF framing (RFC 3164)', async () => {
    await tcp('--rfc3164', '-t', 'openvpn', 'bob-tcp/203.0.113.8:40001 MULTI_sva: pool returned IPv4=10.8.0.42, IPv6=(Not enabled)');
    const m = await reader.waitForEvent('OpenVPN tunnel of bob-tcp', (e) => e.user?.name === 'bob-tcp');
    expect(m.event).toMatchObject({ class_uid: 4014, activity_id: 1, src_endpoint: { ip: '203.0.113.8', port: 40001, intermediate_ips: ['10.8.0.42'] }, is_remote: true, metadata: { product: { name: 'OpenVPN' } }, unmapped: { syslog: { format: 'rfc3164' } } });
    expect('is_mfa' in m.event).toBe(false);
  });

  it('maps a FortiGate tunnel-up sent by logger over UDP (RFC 3164), recognised by content, not tag', async () => {
    await udp('--rfc3164', '-t', 'fgt-relay', 'date=2026-11-25 time=08:05:00 devname="FGT-EDGE" logid="0101039424" type="event" subtype="vpn" logdesc="SSL VPN tunnel up" action="tunnel-up" tunneltype="ssl-tunnel" remip=203.0.113.9 tunnelip=10.212.134.200 user="carol-udp" group="vpn-users" msg="SSL tunnel established"');
    const m = await reader.waitForEvent('FortiGate tunnel of carol-udp', (e) => e.user?.name === 'carol-udp');
    expect(m.event).toMatchObject({ class_uid: 4014, activity_id: 1, time: '2026-11-25T08:05:00.000Z', src_endpoint: { ip: '203.0.113.9', intermediate_ips: ['10.212.134.200'] }, is_remote: true, metadata: { log_name: 'fortigate', product: { name: 'FortiGate', vendor_name: 'Fortinet' } }, unmapped: { receiver: { transport: 'udp' } } });
  });

  it('maps a GlobalProtect gateway-connected CSV sent by logger over TCP, recognised by content', async () => {
    await tcp('--octet-count', '--rfc3164', '-t', 'PA-VM', '1,2026/11/25 08:05:01,012801000001,GLOBALPROTECT,0,2561,2026/11/25 08:05:00,vsys1,gateway-connected,tunnel,LDAP,SSL,lena-gp,DE,LAPTOP-9,203.0.113.21,0.0.0.0,10.30.0.8,0:0:0:0:0:0:0:0,host-1,SN1,6.2.1,Microsoft Windows,10,1,,,"GlobalProtect gateway client configuration generated",success,,0,user-logon,0,gp-portal,1234,0x0');
    const m = await reader.waitForEvent('GlobalProtect tunnel of lena-gp', (e) => e.user?.name === 'lena-gp');
    expect(m.event).toMatchObject({ class_uid: 4014, activity_id: 1, src_endpoint: { ip: '203.0.113.21', intermediate_ips: ['10.30.0.8'] }, is_remote: true, metadata: { log_name: 'globalprotect', original_time: '2026/11/25 08:05:00' } });
  });

  it('maps an sshd failure for an invalid user sent by logger over UDP (RFC 5424)', async () => {
    await udp('--rfc5424', '-t', 'sshd', 'Failed password for invalid user dave-udp from 198.51.100.23 port 40022 ssh2');
    const m = await reader.waitForEvent('sshd failure of dave-udp', (e) => e.user?.name === 'dave-udp');
    expect(m.event).toMatchObject({ class_uid: 3002, status_id: 2, src_endpoint: { ip: '198.51.100.23' }, unmapped: { invalid_user: true, syslog: { format: 'rfc5424' } } });
  });

  it('derives is_mfa from a Partial publickey followed by keyboard-interactive/pam on the same connection', async () => {
    await tcp('--octet-count', '--rfc5424', '-t', 'sshd', '--id=5000', 'Partial publickey for erin-mfa from 203.0.113.10 port 50000 ssh2: ED25519 SHA256:abc');
    await tcp('--octet-count', '--rfc5424', '-t', 'sshd', '--id=5000', 'Accepted keyboard-interactive/pam for erin-mfa from 203.0.113.10 port 50000 ssh2');
    const m = await reader.waitForEvent('MFA logon of erin-mfa', (e) => e.user?.name === 'erin-mfa' && e.status_id === 1);
    expect(m.event.is_mfa).toBe(true);
  });

  it('keeps a message no parser knows as class 0 with raw_data and the reason', async () => {
    await tcp('--rfc3164', '-t', 'cron', 'unparsable-marker-1 (root) CMD (run-parts /etc/cron.hourly)');
    const m = await reader.waitForEvent('class-0 event', (e) => e.class_uid === 0 && (e.raw_data ?? '').includes('unparsable-marker-1'));
    expect(m.event).toMatchObject({ category_uid: 0, severity_id: 0, unmapped: { reason_code: 'IT_EVENTS.NO_PARSER', reason: 'no parser for app-name "cron" recognises this message' } });
    expect(m.event.raw_data).toMatch(/^<13>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ cron: unparsable-marker-1/);
    expect(await metricValue(metrics, 'weir_it_events_unparsed_total', { code: 'IT_EVENTS.NO_PARSER' })).toBeGreaterThanOrEqual(1);
  });

  it('accepts TLS with a client certificate signed by the configured CA (octet-counted RFC 5424 from node:tls)', async () => {
    const msg = "<86>1 2026-11-25T08:05:00Z vpn1 openvpn 900 - - 203.0.113.11:41000 TLS: Username/Password authentication succeeded for username 'frank-tls'";
    await new Promise<void>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: service.ports.tls!, ca: readFileSync(certs.ca), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) }, () => {
        s.end(`${Buffer.byteLength(msg)} ${msg}`);
      });
      s.on('error', reject);
      s.on('close', () => resolve());
    });
    const m = await reader.waitForEvent('OpenVPN logon of frank-tls', (e) => e.user?.name === 'frank-tls');
    expect(m.event).toMatchObject({ class_uid: 3002, status_id: 1, time: '2026-11-25T08:05:00Z', src_endpoint: { ip: '203.0.113.11', port: 41000 }, is_remote: true, unmapped: { receiver: { transport: 'tls' } } });
  });

  it('refuses a TLS client without a certificate and counts it', async () => {
    const before = await metricValue(metrics, 'weir_it_events_tls_errors_total');
    await new Promise<void>((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port: service.ports.tls!, ca: readFileSync(certs.ca) }, () => s.write('<13>1 - - - - - - refused\n'));
      s.on('error', () => resolve());
      s.on('close', () => resolve());
    });
    await waitFor(async () => ((await metricValue(metrics, 'weir_it_events_tls_errors_total')) > before ? true : undefined), { what: 'the TLS refusal to be counted' });
  });

  it('cuts an oversized LF-framed message, keeps its first bytes as class 0 and reads the next message of the connection', async () => {
    const big = `<13>Nov 30 14:00:00 h app: oversized-marker ${'x'.repeat(3000)}\n`;
    const next = '<38>Nov 30 14:00:01 bastion sshd[7]: Accepted publickey for gina-after-big from 203.0.113.12 port 50001 ssh2\n';
    await new Promise<void>((resolve, reject) => {
      const s = netConnect(service.ports.tcp!, '127.0.0.1', () => s.end(big + next));
      s.on('error', reject);
      s.on('close', () => resolve());
    });
    const cut = await reader.waitForEvent('the oversized frame', (e) => e.class_uid === 0 && (e.raw_data ?? '').includes('oversized-marker'));
    expect(cut.event.raw_data).toHaveLength(2048);
    expect(cut.event.unmapped).toMatchObject({ reason_code: 'IT_EVENTS.FRAME_TOO_LARGE' });
    await reader.waitForEvent('the message after it', (e) => e.user?.name === 'gina-after-big');
  });

  it('closes a connection that sends binary garbage, counts it, and keeps serving others', async () => {
    const closedByServer = await new Promise<boolean>((resolve, reject) => {
      const s = netConnect(service.ports.tcp!, '127.0.0.1', () => s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00])));
      s.on('error', reject);
      s.on('close', () => resolve(true));
    });
    expect(closedByServer).toBe(true);
    expect(await metricValue(metrics, 'weir_it_events_framing_errors_total', { transport: 'tcp', code: 'IT_EVENTS.FRAMING_LOST' })).toBe(1);
    await tcp('--octet-count', '-t', 'sshd', 'Accepted password for hank-after-garbage from 203.0.113.13 port 50002 ssh2');
    await reader.waitForEvent('a message on a new connection', (e) => e.user?.name === 'hank-after-garbage');
  });

  it('maps Windows 4624 and 4625 in ECS posted as a JSON array', async () => {
    const logon = { '@timestamp': '2026-11-25T08:07:12.345Z', event: { code: '4624', outcome: 'success' }, winlog: { channel: 'Security', event_id: '4624', computer_name: 'ENG-WS-01', event_data: { LogonType: '10', TargetUserName: 'ivan-win', TargetDomainName: 'CORP', IpAddress: '10.8.0.42', IpPort: '0' } } };
    const failed = { '@timestamp': '2026-11-25T08:07:00Z', event: { code: '4625', outcome: 'failure' }, winlog: { channel: 'Security', event_id: 4625, event_data: { LogonType: '3', TargetUserName: 'ivan-win-fail', IpAddress: '198.51.100.23', IpPort: '51515', Status: '0xc000006d' } } };
    const res = await post(JSON.stringify([logon, failed]), 'application/json');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { accepted: number; parsed: number; unparsed: number; events: { uid: string; class_uid: number }[] };
    expect([body.accepted, body.parsed, body.unparsed, body.events.map((e) => e.class_uid)]).toEqual([2, 2, 0, [3002, 3002]]);
    const ok = await reader.waitForEvent('4624 of ivan-win', (e) => e.user?.name === 'ivan-win');
    expect(ok.event).toMatchObject({ uid: body.events[0]!.uid, status_id: 1, logon_type_id: 10, is_remote: true, user: { domain: 'CORP' }, src_endpoint: { ip: '10.8.0.42' }, dst_endpoint: { hostname: 'ENG-WS-01' }, metadata: { log_name: 'windows-ecs' } });
    expect('is_mfa' in ok.event).toBe(false);
    const fail = await reader.waitForEvent('4625 of ivan-win-fail', (e) => e.user?.name === 'ivan-win-fail');
    expect(fail.event).toMatchObject({ status_id: 2, logon_type_id: 3, is_remote: true, src_endpoint: { ip: '198.51.100.23', port: 51515 } });
  });

  it('passes OCSF through from NDJSON and keeps a bad line as class 0', async () => {
    const ocsf = { class_uid: 3002, activity_id: 1, time: 1795590300000, severity_id: 1, status_id: 1, is_mfa: true, is_remote: true, user: { name: 'judy-ocsf' }, src_endpoint: { ip: '203.0.113.14' }, metadata: { product: { name: 'Okta', vendor_name: 'Okta' } }, actor: { app_name: 'vpn' } };
    const res = await post(`${JSON.stringify(ocsf)}\n{not json: ndjson-bad-marker}\n`, 'application/x-ndjson');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 2, parsed: 1, unparsed: 1 });
    const m = await reader.waitForEvent('OCSF logon of judy-ocsf', (e) => e.user?.name === 'judy-ocsf');
    expect(m.event).toMatchObject({ class_uid: 3002, is_mfa: true, is_remote: true, time: '2026-11-25T07:05:00.000Z', metadata: { log_name: 'ocsf', product: { name: 'Okta' } }, unmapped: { actor: { app_name: 'vpn' } } });
    const bad = await reader.waitForEvent('the bad NDJSON line', (e) => e.class_uid === 0 && (e.raw_data ?? '').includes('ndjson-bad-marker'));
    expect(bad.event.unmapped).toMatchObject({ reason_code: 'IT_EVENTS.NOT_JSON', reason: expect.stringContaining('NDJSON line 2 is not JSON') });
  });

  it('answers bad HTTP requests with a 4xx and a body that says why', async () => {
    const cases = [
      { res: await post('{"a":', 'application/json'), status: 400, text: 'body is not JSON' },
      { res: await post('x', 'text/plain'), status: 415, text: 'content type "text/plain" is not accepted' },
      { res: await post('{}', 'application/json', '/events'), status: 404, text: 'events are POSTed to /v1/events' },
      { res: await post('{}', 'application/json', '/v1/events', 'wrong-token-0123456789ab'), status: 401, text: 'bearer token' },
      { res: await fetch(`http://127.0.0.1:${service.ports.http!}/v1/events`), status: 405, text: 'only POST' },
    ];
    for (const c of cases) {
      expect(c.res.status).toBe(c.status);
      const body = (await c.res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('IT_EVENTS.BAD_REQUEST');
      expect(body.error.message).toContain(c.text);
    }
  });

  it('counts what it received by transport and format and what it parsed by parser', async () => {
    expect(await metricValue(metrics, 'weir_it_events_received_total', { transport: 'tcp', format: 'rfc5424' })).toBeGreaterThanOrEqual(3);
    expect(await metricValue(metrics, 'weir_it_events_received_total', { transport: 'udp', format: 'rfc3164' })).toBeGreaterThanOrEqual(1);
    expect(await metricValue(metrics, 'weir_it_events_received_total', { transport: 'http', format: 'json' })).toBe(2);
    expect(await metricValue(metrics, 'weir_it_events_parsed_total', { parser: 'windows-ecs' })).toBe(2);
    expect(await metricValue(metrics, 'weir_it_events_parsed_total', { parser: 'fortigate' })).toBe(1);
  });
});
