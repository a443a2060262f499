import { erpWorkOrdersV1, itSecurityEventsV1, otEventsV1, securityAlertsV1, telemetryEnrichedV1, topicName, type AlertV1, type TopicDefinition } from '@weir/contracts';
import { DetectionEngine } from '@weir/detection';
import { compileAssetMapping, type AssetMappingRule } from '@weir/domain';
import { BatchConsumer, BatchingProducer, createKafkaClient, ensureTopics, provisioningOptions } from '@weir/kafka';
import { Counter, createMetricsRegistry, Gauge, HealthRegistry, type Registry, startOpsServer, type Logger, type OpsServer } from '@weir/observability';
import type { Kafka } from 'kafkajs';
import { CheckpointStore } from './checkpoint/checkpoint.store';
import type { CorrelatorSettings } from './config';
import { CorrelationPipeline, type InputKind } from './correlation/correlation.pipeline';
import { RuleRegistry, type RuleLoad } from './rules/rule.registry';
import { SyslogForwarder } from './siem/syslog.forwarder';

/** What the application needs besides its settings. */
export interface CorrelatorDeps {
  logger: Logger;
  /** Metrics registry; a new one when absent (tests run several instances in one process). */
  metrics?: Registry;
  /** Start the health/metrics server (off in in-process tests). Default true. */
  opsServer?: boolean;
}

/** Version reported in CEF headers. */
export const CORRELATOR_VERSION = '0.1.0';

/**
 * The correlator: consumes OT events, IT security events, enriched telemetry
 * and ERP work orders, runs the detection engine, checkpoints its state with
 * the consumed offsets, and publishes OCSF Detection Findings to
 * sec.alerts.v1 (and CEF over syslog to a SIEM).
 */
export class CorrelatorApplication {
  readonly metrics: Registry;
  readonly health = new HealthRegistry();
  readonly engine: DetectionEngine;
  readonly rules: RuleRegistry;
  lastLoad: RuleLoad;
  private readonly kafka: Kafka;
  private readonly producer: BatchingProducer;
  private readonly pipeline: CorrelationPipeline;
  private readonly siem: SyslogForwarder | undefined;
  private readonly consumers: BatchConsumer<TopicDefinition>[] = [];
  private readonly rulesLoaded: Gauge<string>;
  private readonly ruleProblems: Gauge<string>;
  private readonly reloads: Counter<string>;
  private readonly siemSent: Counter<string>;
  private ops: OpsServer | undefined;

  constructor(
    private readonly settings: CorrelatorSettings,
    private readonly deps: CorrelatorDeps,
  ) {
    const { logger } = deps;
    const c = settings.correlator;
    this.metrics = deps.metrics ?? createMetricsRegistry('correlator');
    const r = [this.metrics];
    this.rulesLoaded = new Gauge({ name: 'weir_correlator_rules', help: 'Rules in force', registers: r });
    this.ruleProblems = new Gauge({ name: 'weir_correlator_rule_problems', help: 'Rules rejected at the last load (file, line and reason are logged)', registers: r });
    this.reloads = new Counter({ name: 'weir_correlator_rule_reloads_total', help: 'Rule reloads after file changes', registers: r });
    this.siemSent = new Counter({ name: 'weir_correlator_siem_messages_total', help: 'CEF messages sent to the SIEM, by outcome', labelNames: ['outcome'], registers: r });
    this.rules = new RuleRegistry({ dirs: c.rulesDirs, builtin: c.builtinRules, debounceMs: c.reloadDebounceMs, logger: logger.child({ component: 'rules' }) });
    this.lastLoad = this.rules.load();
    this.recordLoad(this.lastLoad);
    this.engine = new DetectionEngine(this.lastLoad.ruleSet, { allowedLatenessMs: c.allowedLatenessMs, incidentWindowMs: c.incidentWindowMs, minUpdateIntervalMs: c.minUpdateIntervalMs, idleInputMs: c.idleInputMs });
    this.kafka = createKafkaClient(settings.kafka, logger);
    this.producer = new BatchingProducer(this.kafka, { logger, metrics: this.metrics, topicPrefix: settings.kafka.topicPrefix });
    if (c.siem.enabled) this.siem = new SyslogForwarder({ ...c.siem, productVersion: CORRELATOR_VERSION, logger });
    const mapper = c.assetMapping.length > 0 ? compileAssetMapping(c.assetMapping as AssetMappingRule[]) : undefined;
    this.pipeline = new CorrelationPipeline(
      this.engine,
      new CheckpointStore(c.stateDir),
      { publish: (alerts) => this.publish(alerts) },
      {
        logger,
        metrics: this.metrics,
        ...(mapper
          ? {
              resolveAsset: (ref) => {
                if (!ref.nodeId) return undefined;
                const m = mapper.resolve({ sourceId: ref.sourceId, nodeId: ref.nodeId, ...(ref.browsePath ? { browsePath: ref.browsePath } : {}) });
                return m ? { id: m.assetId, ...(m.assetPath ? { path: m.assetPath } : {}) } : undefined;
              },
            }
          : {}),
      },
    );
    this.health.register({ name: 'checkpoint', kind: 'liveness', check: () => this.pipeline.checkpointHealthy() });
    const inputs: [TopicDefinition, InputKind][] = [
      [erpWorkOrdersV1, 'work-order'],
      [itSecurityEventsV1, 'it'],
      [otEventsV1, 'ot'],
      ...(c.consumeTelemetry ? [[telemetryEnrichedV1, 'telemetry'] as [TopicDefinition, InputKind]] : []),
    ];
    for (const [topic, kind] of inputs) {
      const consumer = new BatchConsumer(this.kafka, {
        topic,
        // One group per topic (see @weir/kafka: groups shared across topics starve partitions).
        groupId: `${c.groupId}.${topic.name}`,
        topicPrefix: settings.kafka.topicPrefix,
        logger: logger.child({ component: `consumer.${kind}` }),
        metrics: this.metrics,
        dlqProducer: this.producer,
        sessionTimeoutMs: c.sessionTimeoutMs,
        heartbeatIntervalMs: c.heartbeatIntervalMs,
        handler: (messages, ctx) => this.pipeline.handle(kind, ctx.topic, ctx.partition, messages),
      });
      this.consumers.push(consumer as unknown as BatchConsumer<TopicDefinition>);
      this.health.register(consumer.healthCheck());
    }
  }

  /** Provisions topics, restores the checkpoint, starts the consumers and the rules watch. */
  async start(): Promise<void> {
    const { logger } = this.deps;
    if (this.deps.opsServer !== false) {
      const o = this.settings.observability;
      this.ops = await startOpsServer({ host: o.opsHost, port: o.opsPort, metrics: this.metrics, health: this.health, logger });
    }
    if (this.settings.correlator.provisionTopics) {
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        await ensureTopics(admin, [erpWorkOrdersV1, itSecurityEventsV1, otEventsV1, telemetryEnrichedV1, securityAlertsV1], provisioningOptions(this.settings.kafka));
      } finally {
        await admin.disconnect();
      }
    }
    await this.watchPartitions();
    await this.pipeline.init();
    if (this.settings.correlator.watchRules) {
      this.rules.watch((load) => {
        this.reloads.inc();
        this.lastLoad = load;
        this.recordLoad(load);
        this.engine.setRules(load.ruleSet);
      });
    }
    for (const consumer of this.consumers) await consumer.start();
    logger.info({ rules: this.lastLoad.ruleSet.rules.length, inputs: this.consumers.length }, 'correlator running');
  }

  /** Stops the consumers (finishing the batch in hand), writes a last checkpoint, closes the producer, SIEM and ops server. */
  async stop(): Promise<void> {
    this.rules.close();
    try {
      for (const consumer of this.consumers) await consumer.stop();
      await this.pipeline.close();
    } finally {
      await this.producer.close();
      await this.siem?.close();
      await this.ops?.close();
    }
  }

  /**
   * Windows close when every partition of the OT and IT event topics has passed them (in event
   * time), so a backlog on one partition does not make its events arrive after their window closed.
   */
  private async watchPartitions(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const prefix = this.settings.kafka.topicPrefix;
      const streams: string[] = [];
      for (const topic of [otEventsV1, itSecurityEventsV1]) {
        const name = topicName(topic, prefix);
        const meta = await admin.fetchTopicMetadata({ topics: [name] });
        for (const p of meta.topics[0]?.partitions ?? []) streams.push(`${name}:${p.partitionId}`);
      }
      this.engine.setExpectedInputs(streams);
    } finally {
      await admin.disconnect();
    }
  }

  /** Input messages handled and checkpointed so far, by input. */
  handled(): Readonly<Record<InputKind, number>> {
    return this.pipeline.handled;
  }

  private recordLoad(load: RuleLoad): void {
    this.rulesLoaded.set(load.ruleSet.rules.length);
    this.ruleProblems.set(load.problems.length);
  }

  private async publish(alerts: readonly AlertV1[]): Promise<void> {
    await this.producer.sendMany(securityAlertsV1, alerts);
    if (!this.siem) return;
    try {
      await this.siem.send(alerts);
      this.siemSent.inc({ outcome: 'sent' }, alerts.length);
    } catch (err) {
      // The alert is on sec.alerts.v1 already; the SIEM copy is best effort and counted.
      this.siemSent.inc({ outcome: 'failed' }, alerts.length);
      this.deps.logger.warn({ err, code: 'CORRELATOR.SIEM_FAILED', alerts: alerts.length }, 'could not forward alerts to the SIEM');
    }
  }
}
