import { telemetryRawV1 } from '@weir/contracts';
import { BatchingProducer, createKafkaClient, errorMessage, provisioningOptions, provisionInBackground, StoreAndForwardProducer } from '@weir/kafka';
import type { HealthRegistry, Logger, Registry } from '@weir/observability';
import { openClientPki, routeNodeOpcuaLogs, type ClientPki } from '@weir/opcua';
import { checkSettings, statePaths, type HistorianSettings } from './config';
import { RangeSource } from './core/range-runner';
import { RateLimiter } from './core/rate-limiter';
import { SampleWriter } from './core/sample-writer';
import type { HistorianSource, SourceContext, Spool } from './core/source';
import { CsvFolderSource } from './csv/csv-folder.source';
import { HistorianError } from './errors';
import { createHistorianMetrics } from './metrics';
import { OpcuaHistoryBackend } from './opcua/opcua-history.backend';
import { PiWebApiBackend } from './piwebapi/pi-web-api.backend';

/** What `startHistorianConnector` needs; created by the caller (main.ts or a test). */
export interface HistorianConnectorOptions {
  settings: HistorianSettings;
  logger: Logger;
  metrics: Registry;
  health: HealthRegistry;
}

/** A running connector. */
export interface RunningHistorianConnector {
  readonly sources: readonly HistorianSource[];
  readonly spool: Spool;
  /** The OPC UA client certificate (DER), when an OPC UA source is configured. */
  readonly certificate: Buffer | undefined;
  /** Stops reading, lets Kafka take what is spooled (bounded wait), closes the spool and the producer. */
  stop(): Promise<void>;
}

/**
 * Starts the connector: the spool and its producer, topic provisioning in the
 * background (Kafka may be down; the spool holds the data), and one reader
 * per source with its own rate limit and sequence numbers. Read-only towards
 * every historian; the only Kafka traffic is producing.
 */
export async function startHistorianConnector(options: HistorianConnectorOptions): Promise<RunningHistorianConnector> {
  const { settings, logger } = options;
  const problems = checkSettings(settings);
  if (problems.length > 0) throw new HistorianError('HISTORIAN.CONFIG', `invalid settings:\n  ${problems.join('\n  ')}`);
  if (settings.sources.length === 0) logger.warn('no sources configured: add sources in the settings file');
  const { spoolDir, pkiDir } = statePaths(settings);
  const metrics = createHistorianMetrics(options.metrics);

  let pki: ClientPki | undefined;
  if (settings.sources.some((s) => s.type === 'opcua')) {
    const stack = logger.child({ component: 'node-opcua' });
    routeNodeOpcuaLogs({ warn: (line) => stack.debug(line), error: (line) => stack.warn(line) });
    pki = await openClientPki({
      pkiDir,
      applicationUri: settings.opcua.applicationUri,
      applicationName: settings.opcua.applicationName,
      trustedServerCertificates: settings.opcua.trustedServerCertificates,
      acceptUnknownServerCertificates: settings.opcua.acceptUnknownServerCertificates,
    });
  }

  const kafka = createKafkaClient(settings.kafka, logger);
  const producer = new BatchingProducer(kafka, { logger, metrics: options.metrics, topicPrefix: settings.kafka.topicPrefix, lingerMs: 20 });
  const spool = await StoreAndForwardProducer.open({ dir: spoolDir, producer, logger, metrics: options.metrics, maxBytes: settings.spool.maxBytes, fsync: 'batch', onFull: 'block', name: 'historian' });
  options.health.register(spool.healthCheck());
  options.health.register(spool.livenessCheck());

  const provisioning = provisionInBackground(kafka, [telemetryRawV1], { ...provisioningOptions(settings.kafka), logger, meanwhile: 'the spool keeps the data meanwhile' });
  options.health.register(provisioning.healthCheck());

  const sources: HistorianSource[] = settings.sources.map((s) => {
    const ctx: SourceContext = {
      writer: new SampleWriter(spool, s.id),
      limiter: s.type === 'csv' ? new RateLimiter(0, s.rowsPerSecond) : new RateLimiter(s.rateLimit.requestsPerSecond, s.rateLimit.valuesPerSecond),
      logger,
      metrics,
      spool,
      retryDelayMs: settings.retryDelay,
      progressIntervalMs: settings.progressInterval,
    };
    const jobs = settings.jobs.filter((j) => j.source === s.id);
    switch (s.type) {
      case 'csv':
        return new CsvFolderSource(s, ctx);
      case 'opcua':
        return new RangeSource(
          { id: s.id, type: 'opcua', live: s.live, windowMs: s.window, jobs },
          new OpcuaHistoryBackend(s, pki!, { applicationUri: settings.opcua.applicationUri, applicationName: settings.opcua.applicationName, connectTimeoutMs: settings.opcua.connectTimeout }),
          ctx,
        );
      case 'piwebapi':
        return new RangeSource({ id: s.id, type: 'piwebapi', live: s.live, windowMs: s.window, jobs }, new PiWebApiBackend(s, { logger, onBadInput: (code) => metrics.badInput.inc({ source: s.id, code }) }), ctx);
    }
  });
  for (const s of sources) {
    options.health.register({ name: `historian:${s.id}`, kind: 'readiness', check: () => s.health() });
    s.start();
  }

  let stopped: Promise<void> | undefined;
  return {
    sources,
    spool,
    certificate: pki?.certificate,
    stop: () => {
      stopped ??= (async () => {
        const provisioningStopped = provisioning.stop();
        await Promise.all(sources.map((s) => s.stop()));
        await provisioningStopped;
        // Give Kafka a moment to take what is spooled; the rest stays on disk for the next start.
        const flushed = await Promise.race([spool.flush().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), settings.spool.shutdownFlushTimeout).unref())]).catch(() => false);
        if (!flushed) logger.warn({ buffered: spool.stats().bufferedRecords }, 'Kafka did not take everything before shutdown; the rest is sent at the next start');
        await spool.close();
        await producer.close().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'closing the producer failed'));
        await pki?.dispose();
      })();
      return stopped;
    },
  };
}
