import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { itSecurityEventsV1, topicName } from '@weir/contracts';
import { freePort, removeTempDirs, ServiceProcess, tempDir, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { run, TopicReader } from './test-support';

const BURST = 200;

describe('the it-events service', () => {
  afterAll(() => removeTempDirs());

  it('starts from the environment, listens, serves /health and /metrics, and on SIGTERM drains what it read into Kafka', async () => {
    const prefix = uniqueTopicPrefix('it-events-svc');
    const [opsPort, tcpPort, udpPort, httpPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const child = new ServiceProcess({
      main: 'services/it-events/src/main.ts',
      opsPort,
      env: {
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
    });
    const reader = new TopicReader(topicName(itSecurityEventsV1, prefix));
    try {
      await child.waitUntil('live', 60_000);
      expect((await child.get('/health/ready')).status).toBe(200);
      const report = await child.health('ready');
      expect(report.checks['receivers']).toEqual({ ok: true, detail: 'tcp, udp, http' });
      expect(report.checks['kafka-publish']?.ok).toBe(true);
      expect(child.output).toContain('"token":"[redacted]"');
      expect(child.output).not.toContain('svc-token-0123456789abcdef');

      const lines = Array.from({ length: BURST }, (_, i) => `Accepted password for drain-${i} from 203.0.113.${i % 250} port ${40000 + i} ssh2`);
      const file = join(tempDir('burst'), 'burst.log');
      writeFileSync(file, `${lines.join('\n')}\n`);
      await run('/usr/bin/logger', ['-T', '-n', '127.0.0.1', '-P', String(tcpPort), '--octet-count', '-t', 'sshd', '-f', file]);
      const metricsText = await waitFor(
        async () => {
          const text = (await child.get('/metrics')).body;
          return new RegExp(`^weir_it_events_received_total\\{transport="tcp",format="rfc5424",service="it-events"\\} ${BURST}$`, 'm').test(text) ? text : undefined;
        },
        { what: `${BURST} messages counted as received` },
      );
      expect(metricsText).toMatch(new RegExp(`^weir_it_events_parsed_total\\{parser="sshd",service="it-events"\\} ${BURST}$`, 'm'));
      expect(metricsText).toMatch(/^weir_it_events_connections\{transport="tcp",service="it-events"\} \d+$/m);

      expect(await child.stop('SIGTERM'), child.output.slice(-2000)).toEqual({ code: 0, signal: null });
      expect(child.output).toContain('producer closed');

      await reader.start();
      await waitFor(() => (new Set(reader.messages.map((m) => m.event.user?.name)).size >= BURST ? true : undefined), { what: `all ${BURST} events in Kafka (have ${reader.messages.length})` });
      const names = new Set(reader.messages.map((m) => m.event.user?.name));
      expect(lines.every((_, i) => names.has(`drain-${i}`))).toBe(true);
    } finally {
      await child.stop('SIGKILL');
      await reader.stop();
    }
  });
});
