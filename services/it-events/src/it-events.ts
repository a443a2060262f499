import { readFileSync } from 'node:fs';
import type { TlsOptions } from 'node:tls';
import { itSecurityEventsV1, type ItSecurityEventV1 } from '@weir/contracts';
import { BatchingProducer, createKafkaClient, ensureTopics, provisioningOptions } from '@weir/kafka';
import type { HealthRegistry, Logger, Registry } from '@weir/observability';
import type { ItEventsSettings } from './config';
import { ItEventsError, messageOf } from './errors';
import { HttpReceiver } from './http/http.receiver';
import { ItEventsMetrics } from './it-events.metrics';
import { Normaliser } from './normalise/normaliser';
import { FortiGateParser } from './parsers/fortigate.parser';
import { GlobalProtectParser } from './parsers/globalprotect.parser';
import { OpenVpnParser } from './parsers/openvpn.parser';
import { SshdParser } from './parsers/sshd.parser';
import type { SyslogParser } from './parsers/syslog-parser';
import { EventSink } from './publish/event-sink';
import { IngestPipeline } from './publish/ingest-pipeline';
import { SyslogDatagramListener, SyslogStreamListener } from './syslog/syslog.listeners';

/** Dependencies the entry point (or a test) provides. */
export interface ItEventsDeps {
  logger: Logger;
  metrics: Registry;
  health: HealthRegistry;
}

/** The ports the receivers listen on (absent: that receiver is off). */
export interface ItEventsPorts {
  tcp?: number;
  udp?: number;
  tls?: number;
  http?: number;
}

/** A running it-events. */
export interface ItEvents {
  readonly ports: ItEventsPorts;
  /** Events accepted and not yet acknowledged by Kafka. */
  readonly pendingEvents: number;
  /** Stops listening, hands on what was read, waits for Kafka (up to the `drainTimeout` setting), then closes the producer. */
  stop(): Promise<void>;
}

/** The syslog parsers in the order they are asked to recognise a message by content. */
export function syslogParsers(settings: ItEventsSettings): SyslogParser[] {
  return [
    new FortiGateParser({ mfa: settings.sources.fortigate.mfa }),
    new GlobalProtectParser({ mfa: settings.sources.globalprotect.mfa }),
    new OpenVpnParser({ mfa: settings.sources.openvpn.mfa }),
    new SshdParser({ pamSecondFactor: settings.sources.sshd.pamSecondFactor, correlationWindowMs: settings.sources.sshd.correlationWindow }),
  ];
}

function readTlsFile(path: string, setting: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ItEventsError('IT_EVENTS.TLS_FILE_UNREADABLE', `${setting} "${path}" cannot be read: ${messageOf(err)}`, { cause: err });
  }
}

function tlsOptions(tls: NonNullable<ItEventsSettings['syslog']['tls']>): TlsOptions {
  return {
    cert: readTlsFile(tls.certFile, 'syslog.tls.certFile'),
    key: readTlsFile(tls.keyFile, 'syslog.tls.keyFile'),
    ...(tls.clientCaFile ? { ca: readTlsFile(tls.clientCaFile, 'syslog.tls.clientCaFile'), requestCert: true, rejectUnauthorized: tls.requireClientCert } : {}),
    minVersion: 'TLSv1.2',
  };
}

/**
 * Starts it-events: provisions `it.security-events.v1` (and its DLQ),
 * connects the producer, then opens the receivers the settings enable.
 */
export async function startItEvents(settings: ItEventsSettings, deps: ItEventsDeps): Promise<ItEvents> {
  const { logger } = deps;
  const metrics = new ItEventsMetrics(deps.metrics);
  // TLS files are read before anything connects, so a wrong path fails the start at once.
  const tls = settings.syslog.tls ? tlsOptions(settings.syslog.tls) : undefined;

  const kafka = createKafkaClient(settings.kafka, logger);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [itSecurityEventsV1], { ...provisioningOptions(settings.kafka), logger });
  } finally {
    await admin.disconnect();
  }
  const producer = new BatchingProducer(kafka, {
    logger,
    metrics: deps.metrics,
    topicPrefix: settings.kafka.topicPrefix,
    name: 'it-events',
    lingerMs: settings.lingerMs,
    maxBufferedMessages: Math.max(settings.maxPendingEvents, 10_000),
  });
  const stoppers: { name: string; stop: () => Promise<void> }[] = [];
  try {
    await producer.connect();
    const normaliser = new Normaliser(syslogParsers(settings));
    const sink = new EventSink({
      producer,
      metrics,
      logger,
      maxPending: settings.maxPendingEvents,
      retryDelayMs: settings.retryDelay,
      onInvalid: (event: ItSecurityEventV1, reason: string) => {
        const kept = normaliser.unparsed(JSON.stringify(event), 'IT_EVENTS.SCHEMA', reason, { transport: 'tcp', receivedAt: new Date() }, {}, undefined, event.metadata.product).event;
        // The receiver that took the input is in the refused event; the placeholder above is not it.
        const receiver = event.unmapped?.['receiver'];
        if (kept.unmapped) {
          if (receiver !== undefined) kept.unmapped['receiver'] = receiver;
          else delete kept.unmapped['receiver'];
        }
        return kept;
      },
    });
    deps.health.register(sink.healthCheck());
    const pipeline = new IngestPipeline(normaliser, sink, metrics);
    const ports: ItEventsPorts = {};
    const listening: { name: string; listening: () => boolean }[] = [];
    const s = settings.syslog;

    if (s.tcp.enabled) {
      const l = new SyslogStreamListener({ transport: 'tcp', host: s.host, port: s.tcp.port, maxFrameBytes: s.maxFrameBytes, maxConnections: s.maxConnections, drainReadMs: settings.drainRead, pipeline, metrics, logger });
      ports.tcp = await l.start();
      stoppers.push({ name: 'tcp', stop: () => l.stop() });
      listening.push({ name: 'tcp', listening: () => l.listening });
    }
    if (tls && s.tls) {
      const l = new SyslogStreamListener({ transport: 'tls', host: s.host, port: s.tls.port, maxFrameBytes: s.maxFrameBytes, maxConnections: s.maxConnections, drainReadMs: settings.drainRead, tls, pipeline, metrics, logger });
      ports.tls = await l.start();
      stoppers.push({ name: 'tls', stop: () => l.stop() });
      listening.push({ name: 'tls', listening: () => l.listening });
    }
    if (s.udp.enabled) {
      const l = new SyslogDatagramListener({ host: s.host, port: s.udp.port, ...(s.udp.receiveBufferBytes ? { receiveBufferBytes: s.udp.receiveBufferBytes } : {}), pipeline, logger });
      ports.udp = await l.start();
      stoppers.push({ name: 'udp', stop: () => l.stop() });
      listening.push({ name: 'udp', listening: () => l.listening });
    }
    if (settings.http.enabled) {
      const h = settings.http;
      const r = new HttpReceiver({ host: h.host, port: h.port, maxBodyBytes: h.maxBodyBytes, ...(h.token ? { token: h.token } : {}), pipeline, metrics, logger });
      ports.http = await r.start();
      stoppers.push({ name: 'http', stop: () => r.stop() });
      listening.push({ name: 'http', listening: () => r.listening });
    }
    deps.health.register({
      name: 'receivers',
      kind: 'readiness',
      check: () => {
        const down = listening.filter((l) => !l.listening()).map((l) => l.name);
        return down.length === 0 ? { ok: true, detail: listening.map((l) => l.name).join(', ') } : { ok: false, detail: `not listening: ${down.join(', ')}` };
      },
    });
    logger.info({ ports }, 'it-events started');

    const drainTimeoutMs = settings.drainTimeout;
    return {
      ports,
      get pendingEvents() {
        return sink.pendingEvents;
      },
      stop: async () => {
        await Promise.all(stoppers.map((st) => st.stop()));
        logger.info({ pending: sink.pendingEvents }, 'receivers stopped; waiting for Kafka to acknowledge what was read');
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), drainTimeoutMs)));
        const outcome = await Promise.race([sink.drain().then(() => 'drained' as const), timedOut]);
        clearTimeout(timer);
        if (outcome === 'timeout') {
          const dropped = sink.abandonRetries();
          logger.error({ dropped, pending: sink.pendingEvents }, 'Kafka did not take every event before the drain timeout; events waiting for a retry are dropped (counted)');
        }
        await producer.close();
      },
    };
  } catch (err) {
    await Promise.all(stoppers.map((st) => st.stop().catch(() => undefined)));
    await producer.close().catch(() => undefined);
    throw err;
  }
}
