import { erpAssetsV1, erpProductionOrdersV1, erpShiftsV1, erpWorkOrdersV1, telemetryEnrichedV1, telemetryRawV1 } from '@weir/contracts';
import type { AssetMappingRule } from '@weir/domain';
import { createKafkaClient, ensureTopics, provisioningOptions, TransactionalProcessor } from '@weir/kafka';
import { Counter, createMetricsRegistry, HealthRegistry, type Registry, startOpsServer, type Logger, type OpsServer } from '@weir/observability';
import type { Kafka } from 'kafkajs';
import type { EnricherSettings } from './config';
import { ContextLoader } from './context/context-loader';
import { ContextStore } from './context/context-store';
import { Enricher, enrichedBytes, enrichedJson } from './enrich/enricher';

/** What the application needs besides its settings. */
export interface EnricherDeps {
  logger: Logger;
  /** Metrics registry; a new one when absent (tests run several instances in one process). */
  metrics?: Registry;
  /** Start the health/metrics server (off in in-process tests). Default true. */
  opsServer?: boolean;
}

/**
 * The enricher: rebuilds the ERP context from the compacted topics, then runs
 * the consume-enrich-produce loop in Kafka transactions. Plain classes, no
 * Nest: the service has one loop and nothing to inject but its settings.
 */
export class EnricherApplication {
  readonly metrics: Registry;
  readonly health = new HealthRegistry();
  readonly store = new ContextStore();
  private readonly kafka: Kafka;
  private readonly loader: ContextLoader;
  private readonly processor: TransactionalProcessor<typeof telemetryRawV1>;
  private readonly enricher: Enricher;
  private readonly samples: Counter<string>;
  private ops: OpsServer | undefined;

  constructor(
    private readonly settings: EnricherSettings,
    private readonly deps: EnricherDeps,
  ) {
    const { logger } = deps;
    const e = settings.enricher;
    this.metrics = deps.metrics ?? createMetricsRegistry('enricher');
    this.kafka = createKafkaClient(settings.kafka, logger);
    this.enricher = new Enricher(this.store, e.mapping as AssetMappingRule[], e.measurementPattern);
    this.samples = new Counter({ name: 'weir_enricher_samples_total', help: 'Samples enriched, by outcome (enriched, unknown-series, unknown-asset)', labelNames: ['outcome'], registers: [this.metrics] });
    this.loader = new ContextLoader(this.kafka, this.store, {
      logger: logger.child({ component: 'context-loader' }),
      metrics: this.metrics,
      topicPrefix: settings.kafka.topicPrefix,
      groupId: `${e.groupId}.context.${e.instanceId}.${process.pid}.${Date.now().toString(36)}`,
      timeoutMs: e.contextLoadTimeoutMs,
    });
    this.processor = new TransactionalProcessor(this.kafka, {
      input: telemetryRawV1,
      groupId: e.groupId,
      // The same on every instance: whoever processes a partition next fences its previous producer.
      transactionalIdPrefix: e.groupId,
      logger,
      metrics: this.metrics,
      topicPrefix: settings.kafka.topicPrefix,
      maxBytesPerPartition: e.maxBytesPerPartition,
      // One fetch carries a full batch for every partition enriched at once (kafkajs waits for all of a fetch's batches).
      maxBytes: Math.max(10 * 1024 * 1024, e.maxBytesPerPartition * e.partitionsConcurrently),
      maxOutputBatchBytes: e.maxOutputBatchBytes,
      partitionsConsumedConcurrently: e.partitionsConcurrently,
      sessionTimeoutMs: e.sessionTimeoutMs,
      heartbeatIntervalMs: e.heartbeatIntervalMs,
      transform: (messages, out) => {
        let enriched = 0;
        let unknownSeries = 0;
        let unknownAsset = 0;
        for (const m of messages) {
          const raw = m.value!;
          const r = this.enricher.enrich(raw);
          if (r.outcome === 'enriched') enriched++;
          else if (r.outcome === 'unknown-series') unknownSeries++;
          else unknownAsset++;
          // Valid by construction (validated input + validated ERP records; src/enrich/enricher.spec.ts checks it): validating again cost a third
          // of the CPU. The context's JSON is made once per stretch of samples sharing it, not once per sample.
          // Where the input's bytes are exactly the raw sample's JSON, the output is spliced from them (no re-serialisation).
          const bytes = m.json ? enrichedBytes(m.json, r.contextTail) : undefined;
          if (bytes) out.sendBytes(telemetryEnrichedV1, r.key, bytes);
          else out.sendTrusted(telemetryEnrichedV1, r.sample, { json: enrichedJson(raw, r.contextJson) });
        }
        // Counted per attempt: an aborted transaction that is retried counts its samples again.
        if (enriched) this.samples.inc({ outcome: 'enriched' }, enriched);
        if (unknownSeries) this.samples.inc({ outcome: 'unknown-series' }, unknownSeries);
        if (unknownAsset) this.samples.inc({ outcome: 'unknown-asset' }, unknownAsset);
      },
    });
    this.health.register(this.loader.healthCheck());
    this.health.register(this.processor.healthCheck('telemetry'));
  }

  /** Provisions topics, loads the context, then starts the transactional loop. */
  async start(): Promise<void> {
    const { logger } = this.deps;
    if (this.deps.opsServer !== false) {
      const o = this.settings.observability;
      this.ops = await startOpsServer({ host: o.opsHost, port: o.opsPort, metrics: this.metrics, health: this.health, logger });
    }
    if (this.settings.enricher.provisionTopics) {
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        await ensureTopics(admin, [telemetryRawV1, telemetryEnrichedV1, erpAssetsV1, erpProductionOrdersV1, erpWorkOrdersV1, erpShiftsV1], provisioningOptions(this.settings.kafka));
      } finally {
        await admin.disconnect();
      }
    }
    await this.loader.start();
    await this.loader.loaded();
    logger.info({ sizes: this.store.sizes() }, 'ERP context loaded; starting the telemetry loop');
    await this.processor.start();
  }

  /** Stops the loop (aborting an open transaction), the context consumer and the ops server. */
  async stop(): Promise<void> {
    try {
      await this.processor.stop();
    } finally {
      await this.loader.stop();
      await this.ops?.close();
    }
  }
}
