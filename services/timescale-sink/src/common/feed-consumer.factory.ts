import { Inject, Injectable } from '@nestjs/common';
import type { MessageOf, TopicDefinition } from '@weir/contracts';
import { BatchConsumer, BatchingProducer, KAFKA_CLIENT, type BatchContext, type ConsumedMessage } from '@weir/kafka';
import type { Logger, Registry } from '@weir/observability';
import type { Kafka } from 'kafkajs';
import type { SinkSettings } from '../config';
import { describeError, SinkError } from './sink-error';
import { SinkMetrics } from './sink-metrics';
import { LOGGER, METRICS_REGISTRY, SINK_SETTINGS } from './tokens';
import { WriteHealth } from './write-health';

/** Rows offered and stored per table by one handler call. */
export type TableCounts = Record<string, { offered: number; inserted: number }>;

/** Writes one batch of valid messages durably; resolves only after the database commit. */
export type FeedWriter<D extends TopicDefinition> = (messages: ConsumedMessage<MessageOf<D>>[], context: BatchContext) => Promise<TableCounts>;

/**
 * Builds the `BatchConsumer` of one topic with the sink's settings and
 * bookkeeping: batch latency, rows written and deduplicated, database errors,
 * the `database-writes` readiness. A writer error becomes
 * `SINK.DB_WRITE_FAILED`; the consumer then retries the same messages with
 * backoff, never skipping them, and commits offsets only after a write
 * resolved, i.e. after the database commit.
 */
@Injectable()
export class FeedConsumerFactory {
  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(BatchingProducer) private readonly dlqProducer: BatchingProducer,
    @Inject(SINK_SETTINGS) private readonly settings: SinkSettings,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(SinkMetrics) private readonly metrics: SinkMetrics,
    @Inject(WriteHealth) private readonly writes: WriteHealth,
  ) {}

  /** A consumer of `topic` for `feed` that hands valid messages to `write`. */
  create<D extends TopicDefinition>(feed: string, topic: D, write: FeedWriter<D>, options: { partitionsConcurrently?: number } = {}): BatchConsumer<D> {
    const sink = this.settings.sink;
    return new BatchConsumer(this.kafka, {
      topic,
      topicPrefix: this.settings.kafka.topicPrefix,
      // One group per topic: kafkajs' assigners hand out the partitions of every topic any member
      // subscribed to, so members of one group subscribed to different topics would starve each other.
      groupId: feedGroupId(sink.groupId, topic),
      logger: this.logger,
      metrics: this.registry,
      dlqProducer: this.dlqProducer,
      maxHandlerMessages: sink.batchSize,
      maxBytesPerPartition: sink.maxBytesPerPartition,
      maxWaitTimeMs: sink.flushIntervalMs,
      partitionsConsumedConcurrently: options.partitionsConcurrently ?? 1,
      retry: { initialMs: 200, maxMs: sink.retryMaxMs },
      handler: async (messages, context) => {
        const end = this.metrics.batchSeconds.startTimer({ feed });
        try {
          const counts = await write(messages, context);
          end({ outcome: 'ok' });
          for (const [table, c] of Object.entries(counts)) {
            this.metrics.rows.inc({ table }, c.inserted);
            this.metrics.deduplicated.inc({ table }, c.offered - c.inserted);
          }
          this.writes.ok();
          this.metrics.dbUp.set(1);
        } catch (err) {
          end({ outcome: 'failed' });
          this.metrics.dbErrors.inc({ operation: 'write' });
          this.metrics.dbUp.set(0);
          this.writes.failed(err);
          throw new SinkError('SINK.DB_WRITE_FAILED', `${feed}: ${messages.length} message(s) of ${context.topic}[${context.partition}] at offsets ${messages[0]?.offset ?? '?'}..${messages[messages.length - 1]?.offset ?? '?'} not written: ${describeError(err)}`, { cause: err });
        }
      },
    });
  }
}

/** What the application needs of a consumer, whatever its topic. */
export type SinkConsumer = Pick<BatchConsumer<TopicDefinition>, 'start' | 'stop' | 'healthCheck'>;

/** The consumer group of one topic: `<sink.groupId>.<topic base name>`, e.g. `timescale-sink.ot.telemetry.enriched.v1`. */
export function feedGroupId(groupId: string, topic: TopicDefinition): string {
  return `${groupId}.${topic.name}`;
}
