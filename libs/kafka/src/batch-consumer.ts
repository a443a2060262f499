import { dlqTopicName, topicName, type MessageOf, type TopicDefinition } from '@weir/contracts';
import type { HealthCheck } from '@weir/observability';
import type { EachBatchPayload, Kafka } from 'kafkajs';
import { BatchingProducer } from './batching-producer';
import { chunks } from './batching';
import { ConsumerRunner, type ConsumerOptions } from './consumer-runner';
import { decodeBatch, type ConsumedMessage, type DeadLetter } from './dlq';
import { secondsSince } from './metrics';

/** Where a handler call's messages come from. */
export interface BatchContext {
  /** Full topic name. */
  topic: string;
  partition: number;
}

/**
 * Handles the valid messages of one partition, in offset order. Resolve when
 * they are durably processed; throw to have the same messages retried.
 */
export type BatchHandler<T> = (messages: ConsumedMessage<T>[], context: BatchContext) => Promise<void>;

/** Options of a `BatchConsumer`. */
export interface BatchConsumerOptions<D extends TopicDefinition> extends ConsumerOptions {
  /** The topic to consume; its name gets `topicPrefix`. */
  topic: D;
  handler: BatchHandler<MessageOf<D>>;
  /** Partitions handled at the same time (each still in order). Default 1. */
  partitionsConsumedConcurrently?: number;
  /** Producer for DLQ messages; the consumer makes (and closes) its own when absent. */
  dlqProducer?: BatchingProducer;
}

/**
 * Consumes one topic with at-least-once delivery and validation.
 *
 * Each message is decoded and validated against the topic's schema. Invalid
 * ones are written to `<topic>.dlq` with the reason in headers, and that write
 * is acknowledged before their offset can move. Valid ones go to the handler
 * in partition order. Offsets are committed only after the handler resolved;
 * a handler error is transient: the same messages are retried with capped
 * exponential backoff (heartbeating meanwhile) until they succeed or the
 * consumer stops; nothing is skipped. Handlers must tolerate seeing a message
 * again after a crash or rebalance (at-least-once).
 */
export class BatchConsumer<D extends TopicDefinition> {
  private readonly runner: ConsumerRunner;
  private readonly topic: string;
  private readonly dlqTopic: string;
  private readonly dlqProducer: BatchingProducer;
  private readonly ownsDlqProducer: boolean;
  private readonly maxHandlerMessages: number;

  constructor(
    kafka: Kafka,
    private readonly options: BatchConsumerOptions<D>,
  ) {
    const prefix = options.topicPrefix ?? '';
    this.topic = topicName(options.topic, prefix);
    this.dlqTopic = dlqTopicName(options.topic, prefix);
    this.maxHandlerMessages = options.maxHandlerMessages ?? Infinity;
    this.runner = new ConsumerRunner(kafka, options, {
      topic: this.topic,
      component: 'consumer',
      autoCommit: true,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
      onBatch: (payload) => this.onBatch(payload),
    });
    this.ownsDlqProducer = options.dlqProducer === undefined;
    this.dlqProducer =
      options.dlqProducer ??
      new BatchingProducer(kafka, { logger: options.logger, name: `dlq:${options.groupId}`, topicPrefix: prefix, lingerMs: 0, ...(options.metrics ? { metrics: options.metrics } : {}) });
  }

  /** Connects, joins the group and starts consuming; resolves once the group is joined. */
  async start(): Promise<void> {
    if (this.ownsDlqProducer) await this.dlqProducer.connect();
    await this.runner.start();
  }

  /**
   * Stops gracefully: the handler call in progress finishes, what was handled is
   * committed, the member leaves the group and disconnects; a handler waiting to
   * retry gives up (its messages are not committed and will be consumed again).
   */
  async stop(): Promise<void> {
    try {
      await this.runner.stop();
    } finally {
      if (this.ownsDlqProducer) await this.dlqProducer.close();
    }
  }

  /** Readiness: connected, in the group, not crashed. Register it with the service's `HealthRegistry`. */
  healthCheck(name?: string): HealthCheck {
    return this.runner.healthCheck(name);
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const { partition } = batch;
    let resolved: string | undefined;
    for (const raw of chunks(batch.messages, this.maxHandlerMessages)) {
      if (!this.runner.shouldContinue(payload)) break;
      const { valid, invalid } = decodeBatch(this.options.topic, this.topic, partition, raw);
      const context = { partition, firstOffset: raw[0]!.offset, lastOffset: raw[raw.length - 1]!.offset };
      if (invalid.length > 0) {
        const written = await this.runner.untilDone(payload, 'dlq', context, () => this.writeDeadLetters(invalid));
        if (!written.done) break;
        for (const d of invalid) this.runner.metrics.dlq.inc({ ...this.runner.labels, code: d.code });
        this.runner.logger.warn({ ...context, invalid: invalid.length, codes: [...new Set(invalid.map((d) => d.code))], dlq: this.dlqTopic }, 'invalid messages written to the DLQ');
      }
      if (valid.length > 0) {
        const handled = await this.runner.untilDone(payload, 'handler', context, () => this.callHandler(valid, partition));
        if (!handled.done) break;
        this.runner.metrics.consumed.inc(this.runner.labels, valid.length);
      }
      resolved = context.lastOffset;
      payload.resolveOffset(resolved);
      await payload.heartbeat();
    }
    if (resolved === undefined) return;
    // Commit here rather than leave it to kafkajs' end-of-batch commit, so the offset is durable
    // before the next batch of this partition is handed out. kafkajs' own resolved offsets are
    // committed (not resolved + 1) because it moves them past transaction markers it filtered out.
    await payload.commitOffsetsIfNecessary(payload.uncommittedOffsets());
    if (resolved === batch.messages[batch.messages.length - 1]?.offset) this.runner.recordLag(partition, batch.offsetLag());
  }

  private async callHandler(messages: ConsumedMessage<MessageOf<D>>[], partition: number): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      await this.options.handler(messages, { topic: this.topic, partition });
    } finally {
      this.runner.metrics.handlerSeconds.observe(this.runner.labels, secondsSince(started));
    }
  }

  private async writeDeadLetters(invalid: readonly DeadLetter[]): Promise<void> {
    const deliveries: Promise<void>[] = [];
    for (const d of invalid) {
      const { key = null, value, headers } = d.message;
      deliveries.push((await this.dlqProducer.enqueueRaw(this.dlqTopic, { key, value, ...(headers ? { headers } : {}) })).delivered);
    }
    await Promise.all(deliveries);
  }
}
