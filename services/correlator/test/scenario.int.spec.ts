import { erpWorkOrdersV1, itSecurityEventsV1, otEventsV1, telemetryEnrichedV1, type AlertV1 } from '@weir/contracts';
import { uniqueTopicPrefix, waitFor } from '@weir/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { CorrelatorApplication } from '../src/correlator.application';
import { readAlerts, startCorrelator, testKafka, testSettings } from './fixtures';
import { scriptedDay, type Day } from './scenario';

const apps: CorrelatorApplication[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const a of apps) await a.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs one day through Kafka and a fresh correlator; returns the alerts on sec.alerts.v1 and the CEF datagrams. */
async function runDay(label: string, day: Day): Promise<{ alerts: AlertV1[]; cef: string[] }> {
  const brokers = inject('kafkaBrokers');
  const prefix = uniqueTopicPrefix(label);
  const stateDir = mkdtempSync(join(tmpdir(), 'correlator-'));
  dirs.push(stateDir);
  const cef: string[] = [];
  const udp = createSocket('udp4');
  udp.on('message', (m) => cef.push(m.toString('utf8')));
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
  const { kafka, producer } = await testKafka(brokers, prefix);
  try {
    const app = await startCorrelator(testSettings(brokers, prefix, stateDir, { siem: { enabled: true, host: '127.0.0.1', port: udp.address().port, protocol: 'udp' } }));
    apps.push(app);
    // Work orders first: the absence rules judge an OT change by the work orders known when it is processed.
    await producer.sendMany(erpWorkOrdersV1, day.workOrders);
    await waitFor(() => (app.handled()['work-order'] >= day.workOrders.length ? true : undefined), { what: 'work orders consumed' });
    await producer.sendMany(otEventsV1, day.ot);
    await producer.sendMany(itSecurityEventsV1, day.it);
    await producer.sendMany(telemetryEnrichedV1, day.telemetry);
    await waitFor(() => {
      const h = app.handled();
      return h.ot >= day.ot.length && h.it >= day.it.length && h.telemetry >= day.telemetry.length ? true : undefined;
    }, { timeoutMs: 60_000, what: 'every input handled' });
    const h = app.handled();
    expect(h).toEqual({ ot: day.ot.length, it: day.it.length, telemetry: day.telemetry.length, 'work-order': day.workOrders.length });
    const alerts = await readAlerts(kafka, prefix);
    await waitFor(() => (cef.length >= alerts.length ? true : undefined), { timeoutMs: 10_000, what: 'CEF datagrams' });
    return { alerts, cef };
  } finally {
    await producer.close();
    udp.close();
  }
}

const techniques = (a: AlertV1): string[] => a.finding_info.attacks.map((x) => x.technique.uid).sort();

describe('correlator scenarios against real Kafka', () => {
  it('an attack day raises exactly the expected incidents with their ATT&CK for ICS ids, one alert per incident plus updates, each also as CEF', async () => {
    const day = scriptedDay('2026-11-24', true);
    const { alerts, cef } = await runDay('corr-attack', day);
    const creates = alerts.filter((a) => a.activity_id === 1);
    const summary = creates.map((a) => `${a.finding_info.analytic!.uid.replace(/-by-(address|user)$/, '')} ${techniques(a).join(',')} ${a.resources.map((r) => r.uid).join(',')}`).sort();
    expect(summary).toEqual(
      [
        'weir-ics-remote-access-then-ot-change T0822,T0836,T0855,T0859 capper1',
        'weir-ics-mode-change-without-work-order T0858 capper1',
        'weir-ics-new-opcua-client T0848,T0886 ',
        'weir-ics-new-opcua-client T0848,T0886 ',
        'weir-ics-value-beyond-safe-limit T0831,T0836 filler1',
        'weir-ics-alarm-suppressed T0878 filler1',
        'weir-ics-alarm-settings-changed T0838 filler1',
        'weir-ics-loss-of-view-during-it-incident T0815,T0829 ',
        'weir-ics-program-download-without-work-order T0843,T0889 press1',
      ].sort(),
    );
    // The two first-seen incidents are the two unseen hosts.
    const newHosts = creates.filter((a) => a.finding_info.analytic!.uid === 'weir-ics-new-opcua-client').map((a) => a.evidences![0]!['group.ot.client_address']).sort();
    expect(newHosts).toEqual(['10.50.0.66', '10.99.0.77']);
    // The remote-access incident cites the VPN logon and the OPC UA write.
    const remote = creates.find((a) => a.finding_info.analytic!.uid.startsWith('weir-ics-remote-access'))!;
    expect(remote.finding_info.related_events.map((e) => e.uid)).toEqual(['it.security-events.v1:2026-11-24-attack-vpn', expect.stringMatching(/^ot\.events\.v1:plant-hh:/) as string]);
    expect(remote.severity_id).toBe(5);
    // Updates only grow an incident: they share its uid and come after its create.
    const uids = new Set(creates.map((a) => a.finding_info.uid));
    expect(uids.size).toBe(creates.length);
    for (const u of alerts.filter((a) => a.activity_id === 2)) expect(uids.has(u.finding_info.uid)).toBe(true);
    const limit = alerts.filter((a) => a.finding_info.analytic!.uid === 'weir-ics-value-beyond-safe-limit');
    expect(new Set(limit.map((a) => a.finding_info.uid)).size).toBe(1);
    expect(limit.at(-1)!.finding_info.related_events).toHaveLength(3);
    // Every alert also went to the SIEM as CEF over syslog.
    expect(cef).toHaveLength(alerts.length);
    const remoteCef = cef.find((l) => l.includes(`externalId=${remote.finding_info.uid} act=create`))!;
    expect(remoteCef).toMatch(/^<106>1 2026-11-24T15:10:00\.000Z weir weir-correlator - - - CEF:0\|Weir\|Weir correlator\|0\.1\.0\|weir-ics-remote-access-then-ot-change-by-(address|user)\|Remote access without MFA followed by an OT change /);
    expect(remoteCef).toContain('cs1=T0822,T0859,T0836,T0855');
    expect(remoteCef).toContain('cs2=acme/hh/line1/capper1');
  });

  it('a clean day of the same volume raises no alert', async () => {
    const day = scriptedDay('2026-11-23', false);
    const { alerts, cef } = await runDay('corr-clean', day);
    expect(alerts.map((a) => a.finding_info.title)).toEqual([]);
    expect(cef).toEqual([]);
  });
});
