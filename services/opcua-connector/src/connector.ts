import { otEventsV1, telemetryRawV1 } from '@weir/contracts';
import { BatchingProducer, createKafkaClient, errorMessage, provisioningOptions, provisionInBackground } from '@weir/kafka';
import type { HealthRegistry, Logger, Registry } from '@weir/observability';
import { openClientPki, routeNodeOpcuaLogs, type ClientPki, type SourceConfig } from '@weir/opcua';
import { resolveSources, statePaths, type ConnectorSettings } from './config';
import { createConnectorMetrics } from './metrics';
import { openSpool } from './spool/open-spool';
import type { Spool } from './spool/spool';
import { SourceRunner } from './source/source-runner';

/** What `startConnector` needs; everything is created by the caller (main.ts or a test). */
export interface ConnectorOptions {
  settings: ConnectorSettings;
  logger: Logger;
  metrics: Registry;
  health: HealthRegistry;
  /** The settings file, for messages. */
  configFile?: string;
  /** Sources to use instead of the ones in the settings (tests). */
  sources?: SourceConfig[];
}

/** A running connector. */
export interface RunningConnector {
  readonly sources: readonly SourceRunner[];
  readonly spool: Spool;
  /** The connector's own OPC UA application certificate (DER), for a server's trust list. */
  readonly certificate: Buffer;
  readonly pki: ClientPki;
  /** Stops reading, lets what was read reach the spool, closes the spool and the producer. */
  stop(): Promise<void>;
}

/**
 * Starts the connector: opens the client PKI (creating the application
 * certificate on first start), the spool and the Kafka producer, provisions
 * the two topics in the background (Kafka may be down at start: the spool
 * holds the data meanwhile), and starts one runner per source. The only
 * Kafka traffic is producing; no topic is consumed.
 */
export async function startConnector(options: ConnectorOptions): Promise<RunningConnector> {
  const { settings, logger } = options;
  const stack = logger.child({ component: 'node-opcua' });
  routeNodeOpcuaLogs({ warn: (line) => stack.debug(line), error: (line) => stack.warn(line) });
  const { spoolDir, pkiDir } = statePaths(settings);
  let sources = options.sources;
  if (!sources) {
    const resolved = resolveSources(settings, options.configFile);
    sources = resolved.sources;
    for (const w of resolved.warnings.slice(0, 50)) logger.warn(w);
    if (resolved.warnings.length > 50) logger.warn({ more: resolved.warnings.length - 50 }, 'more node-set warnings');
  }
  if (sources.length === 0) logger.warn('no sources configured: set sources in the settings file or opcua.publishedNodesFile');

  const pki = await openClientPki({
    pkiDir,
    applicationUri: settings.opcua.applicationUri,
    applicationName: settings.opcua.applicationName,
    trustedServerCertificates: settings.opcua.trustedServerCertificates,
    acceptUnknownServerCertificates: settings.opcua.acceptUnknownServerCertificates,
  });
  logger.info({ pkiDir, thumbprint: pki.thumbprint }, 'client certificate ready (servers must trust it for Sign/SignAndEncrypt)');

  const kafka = createKafkaClient(settings.kafka, logger);
  const producer = new BatchingProducer(kafka, { logger, metrics: options.metrics, topicPrefix: settings.kafka.topicPrefix, lingerMs: 20 });
  const spool = await openSpool({ dir: spoolDir, producer, logger, metrics: options.metrics, health: options.health, maxBytes: settings.spool.maxBytes });
  const metrics = createConnectorMetrics(options.metrics);

  const provisioning = provisionInBackground(kafka, [telemetryRawV1, otEventsV1], { ...provisioningOptions(settings.kafka), logger, meanwhile: 'the spool keeps the data meanwhile' });

  const statsTimer = setInterval(() => {
    const s = spool.stats();
    metrics.spoolBytes.set(s.bufferedBytes);
    metrics.spoolMessages.set(s.bufferedRecords);
  }, 1000);

  const runners = sources.map((s) => new SourceRunner(s, settings.opcua, pki, spool, logger, metrics));
  for (const r of runners) {
    options.health.register({ name: `opcua:${r.id}`, kind: 'readiness', check: () => r.health() });
    r.start();
  }
  options.health.register(provisioning.healthCheck());

  let stopped: Promise<void> | undefined;
  return {
    sources: runners,
    spool,
    certificate: pki.certificate,
    pki,
    stop: () => {
      stopped ??= (async () => {
        const provisioningStopped = provisioning.stop();
        await Promise.all(runners.map((r) => r.stop()));
        clearInterval(statsTimer);
        await provisioningStopped;
        // Give Kafka a moment to take what is spooled; what it does not take stays on disk for the next start.
        const flushed = await Promise.race([spool.flush().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), settings.spool.shutdownFlushTimeout).unref())]).catch(() => false);
        if (!flushed) logger.warn({ buffered: spool.stats().bufferedRecords }, 'Kafka did not take everything before shutdown; the rest is sent at the next start');
        await spool.close();
        await producer.close().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'closing the producer failed'));
        await pki.dispose();
      })();
      return stopped;
    },
  };
}
