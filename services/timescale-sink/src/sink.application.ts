import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { itSecurityEventsV1, otEventsV1, securityAlertsV1, telemetryEnrichedV1, erpAssetsV1, erpProductionOrdersV1, erpShiftsV1, erpWorkOrdersV1, type TopicDefinition } from '@weir/contracts';
import { ensureTopics, KAFKA_CLIENT, provisioningOptions, sleep } from '@weir/kafka';
import { GracefulShutdown, startOpsServer, type HealthRegistry, type Logger, type OpsServer, type Registry } from '@weir/observability';
import { databaseHealthCheck, detectTimescale, Migrator } from '@weir/timescale';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { SinkFeed, SinkSettings } from './config';
import type { SinkConsumer } from './common/feed-consumer.factory';
import { describeError, SinkError } from './common/sink-error';
import { StorageEdition } from './common/storage-edition';
import { HEALTH, LOGGER, METRICS_REGISTRY, PG_POOL, SINK_SETTINGS } from './common/tokens';
import { WriteHealth } from './common/write-health';
import { SequenceGapDetector } from './completeness/sequence-gap.detector';
import { ContextConsumer } from './context/context.consumer';
import { EventsConsumer } from './events/events.consumer';
import { RetentionService } from './retention/retention.service';
import { RollupMaintainer } from './rollups/rollup.maintainer';
import { TelemetryConsumer } from './telemetry/telemetry.consumer';

const FEED_TOPICS: Record<SinkFeed, TopicDefinition[]> = {
  telemetry: [telemetryEnrichedV1],
  'ot-events': [otEventsV1],
  'security-events': [itSecurityEventsV1],
  alerts: [securityAlertsV1],
  erp: [erpAssetsV1, erpWorkOrdersV1, erpProductionOrdersV1, erpShiftsV1],
};

/**
 * Start-up and shutdown of the sink, in order. Start: health/metrics endpoint,
 * migrations, edition detection, retention and chunk settings, topics, the
 * consumers of the configured feeds, then the background jobs (rollups and
 * retention on the Apache licence, sequence gaps). Stop (SIGTERM, or
 * `app.close()`): jobs and consumers finish what they are doing and commit,
 * then the endpoint; Kafka's producer and the pool close after this.
 */
@Injectable()
export class SinkApplication implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly consumers: SinkConsumer[] = [];
  private ops: OpsServer | undefined;
  private readonly shutdown: GracefulShutdown;

  constructor(
    @Inject(SINK_SETTINGS) private readonly settings: SinkSettings,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(HEALTH) private readonly health: HealthRegistry,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(StorageEdition) private readonly edition: StorageEdition,
    @Inject(WriteHealth) private readonly writes: WriteHealth,
    @Inject(TelemetryConsumer) private readonly telemetry: TelemetryConsumer,
    @Inject(EventsConsumer) private readonly events: EventsConsumer,
    @Inject(ContextConsumer) private readonly context: ContextConsumer,
    @Inject(RollupMaintainer) private readonly rollups: RollupMaintainer,
    @Inject(SequenceGapDetector) private readonly gaps: SequenceGapDetector,
    @Inject(RetentionService) private readonly retention: RetentionService,
  ) {
    this.shutdown = new GracefulShutdown(logger);
  }

  /** The port of the health/metrics endpoint once started (useful with port 0). */
  get opsPort(): number | undefined {
    return this.ops?.port;
  }

  /** Runs the start-up sequence; Nest awaits it before `createApplicationContext` resolves. */
  async onApplicationBootstrap(): Promise<void> {
    const sink = this.settings.sink;
    this.health.register(databaseHealthCheck(this.pool));
    this.health.register(this.writes.healthCheck());
    const obs = this.settings.observability;
    this.ops = await startOpsServer({ host: obs.opsHost, port: obs.opsPort, metrics: this.registry, health: this.health, logger: this.logger });
    this.shutdown.add({ name: 'ops server', stop: () => this.ops?.close() });
    try {
      if (sink.migrate) await new Migrator({ pool: this.pool, logger: this.logger }).up();
      const detection = await detectTimescale(this.pool);
      if (detection.license === null) throw new SinkError('SINK.STARTUP_FAILED', 'the timescaledb extension is not installed in the database; run the migrations (sink.migrate) first');
      this.edition.set(detection.license);
      this.logger.info({ license: detection.license, timescaledb: detection.extension.installedVersion, sinkMaintainsRollups: this.edition.sinkMaintained }, 'storage edition detected');
      await this.retention.applySettings();
      const topics = sink.feeds.flatMap((f) => FEED_TOPICS[f]);
      if (sink.provisionTopics) await this.provision(topics);
      this.consumers.push(...this.createConsumers(sink.feeds));
      for (const c of this.consumers) this.health.register(c.healthCheck());
      this.shutdown.add({ name: 'consumers', stop: async () => void (await Promise.all(this.consumers.map((c) => c.stop()))) });
      await Promise.all(this.consumers.map((c) => c.start()));
      // On both licences: counter_increments_1m is the sink's; telemetry_1m/1h only on Apache (the repository checks).
      this.rollups.start();
      this.shutdown.add({ name: 'rollups', stop: () => this.rollups.stop() });
      if (sink.completeness.sequenceGaps) {
        this.gaps.start();
        this.shutdown.add({ name: 'sequence gaps', stop: () => this.gaps.stop() });
      }
      this.retention.start();
      this.shutdown.add({ name: 'retention', stop: () => this.retention.stop() });
      this.logger.info({ feeds: sink.feeds, topics: topics.length, groupId: sink.groupId }, 'timescale-sink started');
    } catch (err) {
      throw err instanceof SinkError ? err : new SinkError('SINK.STARTUP_FAILED', describeError(err), { cause: err });
    }
  }

  /** Stops jobs and consumers (committing what was written) and the endpoint, before the pool and producer close. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.shutdown.shutdown();
  }

  private createConsumers(feeds: readonly SinkFeed[]): SinkConsumer[] {
    const out: SinkConsumer[] = [];
    for (const feed of feeds) {
      switch (feed) {
        case 'telemetry':
          out.push(...(this.telemetry.create()));
          break;
        case 'ot-events':
          out.push(this.events.otEvents());
          break;
        case 'security-events':
          out.push(this.events.securityEvents());
          break;
        case 'alerts':
          out.push(this.events.alerts());
          break;
        case 'erp':
          out.push(...this.context.create());
          break;
      }
    }
    return out;
  }

  private async provision(topics: readonly TopicDefinition[]): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      // Right after creating topics a broker can answer metadata requests before it hosts them
      // ("does not host this topic-partition"); provisioning is idempotent, so try again.
      for (let attempt = 1; ; attempt++) {
        try {
          await ensureTopics(admin, topics, { ...provisioningOptions(this.settings.kafka), logger: this.logger });
          return;
        } catch (err) {
          if (attempt >= 5) throw err;
          this.logger.warn({ attempt, err: describeError(err) }, 'topic provisioning failed; trying again');
          await sleep(500 * attempt);
        }
      }
    } finally {
      await admin.disconnect();
    }
  }
}
