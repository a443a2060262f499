import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { itSecurityEventsV1, topicName } from '@weir/contracts';
import { freePort, removeTempDirs, tempDir, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { run, TopicReader } from './test-support';

const root = resolve(__dirname, '../../..');
const BURST = 200;

describe('the it-events service', () => {
  afterAll(() => removeTempDirs());

  it('starts from the environment, listens, serves /health and /metrics, and on SIGTERM drains what it read into Kafka', async () => {
    const prefix = uniqueTopicPrefix('it-events-svc');
    const [opsPort, tcpPort, udpPort, httpPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const child = spawn(process.execPath, ['--import', 'tsx', 'services/it-events/src/main.ts'], {
      cwd: root,
      // NODE_OPTIONS cleared: a tsx parent would pass its signal-relaying preflight down to the child.
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        WEIR_KAFKA__BROKERS: inject('kafkaBrokers').join(','),
        WEIR_KAFKA__TOPIC_PREFIX: prefix,
        WEIR_KAFKA__PARTITIONS: '1',
        WEIR_OPS_PORT: String(opsPort),
        WEIR_SYSLOG__TCP__PORT: String(tcpPort),
        WEIR_SYSLOG__UDP__PORT: String(udpPort),
        WEIR_HTTP__PORT: String(httpPort),
        WEIR_HTTP__TOKEN: 'svc-token-0123456789abcdef',
        // Events wait up to a second in the producer, so SIGTERM finds some still to be flushed.
        WEIR_LINGER_MS: '1000',
        WEIR_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<string>((r) => child.on('exit', (code, signal) => r(`${code ?? signal}`)));
    const reader = new TopicReader(topicName(itSecurityEventsV1, prefix));
    try {
      await waitFor(() => (output.includes('health and metrics listening') ? true : undefined), { timeoutMs: 60_000, what: `service start (output so far: ${output.slice(-1000)})` });
      const ready = await fetch(`http://127.0.0.1:${opsPort}/health/ready`);
      expect(ready.status).toBe(200);
      const report = (await ready.json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
      expect(report.checks['receivers']).toEqual({ ok: true, detail: 'tcp, udp, http' });
      expect(report.checks['kafka-publish']?.ok).toBe(true);
      expect(output).toContain('"token":"[redacted]"');
      expect(output).not.toContain('svc-token-0123456789abcdef');

      const lines = Array.from({ length: BURST }, (_, i) => `Accepted password for drain-${i} from 203.0.113.${i % 250} port ${40000 + i} ssh2`);
      const file = join(tempDir('burst'), 'burst.log');
      writeFileSync(file, `${lines.join('\n')}\n`);
      await run('/usr/bin/logger', ['-T', '-n', '127.0.0.1', '-P', String(tcpPort), '--octet-count', '-t', 'sshd', '-f', file]);
      const metricsText = await waitFor(
        async () => {
          const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
          return new RegExp(`^weir_it_events_received_total\\{transport="tcp",format="rfc5424",service="it-events"\\} ${BURST}$`, 'm').test(text) ? text : undefined;
        },
        { what: `${BURST} messages counted as received` },
      );
      expect(metricsText).toMatch(new RegExp(`^weir_it_events_parsed_total\\{parser="sshd",service="it-events"\\} ${BURST}$`, 'm'));
      expect(metricsText).toMatch(/^weir_it_events_connections\{transport="tcp",service="it-events"\} \d+$/m);

      child.kill('SIGTERM');
      const how = await exited;
      expect(how, output.slice(-2000)).toBe('0');
      expect(output).toContain('producer closed');

      await reader.start();
      await waitFor(() => (new Set(reader.messages.map((m) => m.event.user?.name)).size >= BURST ? true : undefined), { what: `all ${BURST} events in Kafka (have ${reader.messages.length})` });
      const names = new Set(reader.messages.map((m) => m.event.user?.name));
      expect(lines.every((_, i) => names.has(`drain-${i}`))).toBe(true);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await reader.stop();
    }
  });
});
