import { itSecurityEventsV1, otEventsV1, type AlertV1 } from '@weir/contracts';
import { freePort, killServiceProcesses, removeTempDirs, ServiceProcess, tempDir, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ASSET_MAPPING, logon, readAlerts, testKafka, write } from './fixtures';

afterAll(async () => {
  await killServiceProcesses();
  removeTempDirs();
});

const CUSTOM_RULE = `title: 'Remote \\ access | test = 1'
id: custom-contractor-write
description: 'a=b\\c|d'
detection:
  sel:
    event.category: ot_write
    user.name: contractor9
  condition: sel
level: medium
tags:
  - attack.t0836
`;

/** The service's real entry point as its own process, its ops server on `opsPort`. */
const startChild = (configFile: string, opsPort: number): ServiceProcess =>
  new ServiceProcess({ main: 'services/correlator/src/main.ts', opsPort, env: { WEIR_CONFIG_FILE: configFile, WEIR_OBSERVABILITY__OPS_PORT: String(opsPort) } });

describe('correlator restart', () => {
  it('a correlator killed (SIGKILL) in the middle of a temporal window still raises the alert after restart, once, and forwards CEF over TCP with escaping', async () => {
    const brokers = inject('kafkaBrokers');
    const prefix = uniqueTopicPrefix('corr-restart');
    const stateDir = tempDir('correlator-state');
    const rulesDir = tempDir('correlator-rules');
    writeFileSync(join(rulesDir, 'custom.yml'), CUSTOM_RULE);
    const lines: string[] = [];
    const server: Server = createServer((sock) => {
      let buf = '';
      sock.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          lines.push(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    });
    const siemPort = await freePort();
    await new Promise<void>((r) => server.listen(siemPort, '127.0.0.1', () => r()));
    const configFile = join(stateDir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        kafka: { brokers, clientId: 'correlator-child', topicPrefix: prefix, partitions: 2, replicationFactor: 1 },
        observability: { logLevel: 'warn', opsPort: 0 },
        correlator: { groupId: `${prefix}correlator`, stateDir, rulesDirs: [rulesDir], assetMapping: ASSET_MAPPING, sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, consumeTelemetry: false, siem: { enabled: true, host: '127.0.0.1', port: siemPort, protocol: 'tcp' } },
      }),
    );
    const { kafka, producer } = await testKafka(brokers, prefix);
    try {
      const first = startChild(configFile, await freePort());
      // The first half of the window: a VPN logon without MFA, and a harmless local logon.
      await producer.sendMany(itSecurityEventsV1, [
        logon('r-1', '2026-11-25T10:00:00Z', 'contractor9', { mfa: false, remote: true, ip: '198.51.100.9', vpnIp: '10.99.0.91' }),
        logon('r-2', '2026-11-25T10:01:00Z', 'clerk1', { mfa: false, remote: false, ip: '10.10.1.20' }),
      ]);
      const checkpoint = join(stateDir, 'correlator.checkpoint.json');
      await waitFor(
        () => {
          if (!existsSync(checkpoint)) return undefined;
          const cp = JSON.parse(readFileSync(checkpoint, 'utf8')) as { engine: { windows: Record<string, unknown> } };
          return cp.engine.windows['weir-ics-remote-access-then-ot-change-by-address'] ? true : undefined;
        },
        { timeoutMs: 60_000, what: `the logon in the checkpoint (child output: ${first.output})` },
      );
      expect(await first.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
      // The second half arrives while the correlator is down.
      await producer.sendMany(otEventsV1, [write('2026-11-25T10:12:00Z', 'Capper1.SpeedSetpoint', '10.99.0.91', 'contractor9', 100, 140)]);
      const second = startChild(configFile, await freePort());
      const alerts = await waitFor(
        async () => {
          const a = await readAlerts(kafka, prefix);
          return a.length >= 3 ? a : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 500, what: `three alerts (child output: ${second.output})` },
      );
      await waitFor(() => (lines.length >= 3 ? true : undefined), { timeoutMs: 10_000, what: 'three CEF lines' });
      // Its metrics, like every service's, carry the service label, with the process metrics.
      await waitFor(async () => ((await second.metric('weir_correlator_siem_messages_total', { outcome: 'sent' })) >= 3 ? true : undefined), { what: 'three CEF messages counted' });
      const metrics = (await second.get('/metrics')).body;
      expect(metrics).toMatch(/^weir_correlator_siem_messages_total\{outcome="sent",service="correlator"\} 3$/m);
      expect(metrics).toMatch(/^weir_process_cpu_seconds_total\{service="correlator"\} /m);
      expect(await second.stop('SIGTERM'), second.output.slice(-2000)).toEqual({ code: 0, signal: null });
      const after = await readAlerts(kafka, prefix);
      const summary = (as: AlertV1[]) => as.map((a) => `${a.activity_id} ${a.finding_info.analytic!.uid}`).sort();
      expect(summary(after)).toEqual(['1 custom-contractor-write', '1 weir-ics-remote-access-then-ot-change-by-address', '1 weir-ics-write-without-work-order']);
      expect(after).toHaveLength(alerts.length);
      const remote = after.find((a) => a.finding_info.analytic!.uid === 'weir-ics-remote-access-then-ot-change-by-address')!;
      expect(remote.finding_info.related_events.map((e) => e.uid)).toEqual(['it.security-events.v1:r-1', expect.stringMatching(/^ot\.events\.v1:plant-hh:/) as string]);
      expect(remote.finding_info.attacks.map((a) => a.technique.uid)).toEqual(['T0822', 'T0859', 'T0836', 'T0855']);
      // CEF: `|` and `\` escaped in the header, `=` and `\` in extension values.
      expect(lines).toHaveLength(3);
      const custom = lines.find((l) => l.includes('|custom-contractor-write|'))!;
      expect(custom).toContain('CEF:0|Weir|Weir correlator|0.1.0|custom-contractor-write|Remote \\\\ access \\| test = 1|5|');
      expect(custom).toContain('msg=a\\=b\\\\c|d');
      expect(custom).toContain('cs2=acme/hh/line1/capper1');
    } finally {
      await producer.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
