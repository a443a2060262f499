import { connect as netConnect } from 'node:net';
import { itSecurityEventsV1, topicName } from '@weir/contracts';
import { createMetricsRegistry, HealthRegistry, type Registry } from '@weir/observability';
import { canControlServers, capturingLogger, metricValue, startKafka, type TestKafka, uniqueSuffix, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itEventsSettingsSchema } from '../src/config';
import { startItEvents, type ItEvents } from '../src/it-events';
import { run, TopicReader } from './test-support';

const MAX_PENDING = 100;
const SENT = 1000;

// Its own broker: the test pauses it, which must not disturb the other test files.
describe.skipIf(!canControlServers)('back-pressure while Kafka is down', () => {
  let kafka: TestKafka;
  let service: ItEvents;
  let metrics: Registry;
  let down = false;
  const prefix = uniqueTopicPrefix('it-events-bp');

  beforeAll(async () => {
    kafka = await startKafka();
    const settings = itEventsSettingsSchema.parse({
      kafka: { brokers: kafka.brokers, clientId: `it-events-bp-${uniqueSuffix()}`, topicPrefix: prefix, partitions: 1 },
      syslog: { tcp: { port: 0 }, udp: { port: 0 } },
      http: { enabled: false },
      maxPendingEvents: MAX_PENDING,
    });
    const { logger } = capturingLogger('it-events-test');
    metrics = createMetricsRegistry('it-events', { defaultMetrics: false });
    service = await startItEvents(settings, { logger, metrics, health: new HealthRegistry() });
  });

  afterAll(async () => {
    // Resuming waits for the broker's start-up line, so only a broker the test left stopped is resumed.
    if (down) await kafka.outage?.resume().catch(() => undefined);
    await service?.stop();
    await kafka?.stop();
  });

  it('stops reading TCP at the pending limit, drops and counts UDP, and delivers every TCP message once Kafka is back', async () => {
    await kafka.outage!.pause();
    down = true;
    const lines = Array.from({ length: SENT }, (_, i) => `<38>Nov 30 14:00:00 bastion sshd[9]: Accepted password for bp-${i} from 203.0.113.7 port ${20000 + i} ssh2\n`).join('');
    const socket = netConnect(service.ports.tcp!, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.write(lines, () => resolve());
    });
    await waitFor(async () => ((await metricValue(metrics, 'weir_it_events_backpressure_pauses_total', { transport: 'tcp' })) >= 1 ? true : undefined), { what: 'the TCP receiver to wait for room' });
    expect(await metricValue(metrics, 'weir_it_events_pending_events')).toBe(MAX_PENDING);
    // One frame more than the limit was read (it waits for room); the rest stays in the socket.
    expect(await metricValue(metrics, 'weir_it_events_received_total', { transport: 'tcp' })).toBe(MAX_PENDING + 1);

    await run('/usr/bin/logger', ['-d', '-n', '127.0.0.1', '-P', String(service.ports.udp), '-t', 'sshd', 'Accepted password for bp-udp from 203.0.113.8 port 1 ssh2']);
    await waitFor(async () => ((await metricValue(metrics, 'weir_it_events_dropped_total', { transport: 'udp', code: 'IT_EVENTS.BUFFER_FULL' })) === 1 ? true : undefined), { what: 'the datagram to be dropped and counted' });

    await kafka.outage!.resume();
    down = false;
    const reader = new TopicReader(topicName(itSecurityEventsV1, prefix), kafka.brokers);
    await reader.start();
    try {
      await waitFor(() => (new Set(reader.messages.map((m) => m.event.user?.name)).size >= SENT ? true : undefined), { timeoutMs: 120_000, what: `all ${SENT} TCP events in Kafka (have ${reader.messages.length})` });
      const names = new Set(reader.messages.map((m) => m.event.user?.name));
      expect(Array.from({ length: SENT }, (_, i) => names.has(`bp-${i}`)).every(Boolean)).toBe(true);
      expect(names.has('bp-udp')).toBe(false);
    } finally {
      socket.destroy();
      await reader.stop();
    }
  });
});
