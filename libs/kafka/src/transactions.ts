import { dlqTopicName, topicName, type MessageOf, type TopicDefinition } from '@weir/contracts';
import type { Counter, HealthCheck } from '@weir/observability';
import { CompressionTypes, type EachBatchPayload, type IHeaders, type Kafka, type Message, type Producer, type TopicMessages, type Transaction } from 'kafkajs';
import { FastDefaultPartitioner } from './partitioner';
import type { SendOptions, ProducerCompression } from './batching-producer';
import { chunks, recordBytes, takeBatch, type TopicRecord } from './batching';
import { ConsumerRunner, nextOffset, type ConsumerOptions } from './consumer-runner';
import { decodeBatch, type ConsumedMessage } from './dlq';
import { encodeRecord } from './encode-record';
import { errorMessage, KafkaError } from './kafka-error';
import { counter, secondsSince } from './metrics';

/** Options of a transactional producer. */
export interface TransactionalProducerOptions {
  /**
   * Stable id of this producer across restarts (e.g. `enricher-0` for replica 0). A new
   * producer with the same id fences the old one and aborts its open transaction.
   */
  transactionalId: string;
  /** The broker aborts a transaction left open this long, in ms. Default 60,000. */
  transactionTimeoutMs?: number;
  /** Retries of retriable errors per request. Default 8. */
  retries?: number;
}

/**
 * First wait before kafkajs retries a request of a transactional producer, in ms. The broker answers
 * CONCURRENT_TRANSACTIONS to the first request of a transaction while the previous one's commit
 * markers are still being written, which takes milliseconds; kafkajs's default first wait (300 ms)
 * idled the loop that long each time. The Java client retries that answer after 20 ms.
 */
const TRANSACTIONAL_INITIAL_RETRY_MS = 25;

/**
 * A kafkajs producer for transactions: idempotent, one request in flight (so
 * a retried request cannot be overtaken), acks=all, no topic auto-creation.
 * Connect it before use; begin transactions with `producer.transaction()`.
 */
export function createTransactionalProducer(kafka: Kafka, options: TransactionalProducerOptions): Producer {
  return kafka.producer({
    transactionalId: options.transactionalId,
    transactionTimeout: options.transactionTimeoutMs ?? 60_000,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: FastDefaultPartitioner,
    retry: { retries: options.retries ?? 8, initialRetryTime: TRANSACTIONAL_INITIAL_RETRY_MS },
  });
}

/** `sendTrusted` options: besides headers, the message's JSON when the caller has built it already. */
export interface TrustedSendOptions extends SendOptions {
  /** `JSON.stringify(message)` or an equivalent serialisation of it (e.g. assembled from cached parts). */
  json?: string;
  /** The same as UTF-8 bytes (e.g. spliced from the input's bytes); wins over `json`. */
  bytes?: Buffer;
}

/** Collects the output of a transform; everything sent here commits or aborts with the input offsets. */
export interface TransactionOutput {
  /** Validates `message` against `topic`'s schema (throws `KAFKA.INVALID_MESSAGE`) and adds it to the transaction. */
  send<O extends TopicDefinition>(topic: O, message: MessageOf<O>, options?: SendOptions): void;
  /**
   * Adds `message` keyed and serialised as `send` does, without validating it again: for hot
   * paths whose output is valid by construction (built from validated input and validated
   * records). The caller vouches for the schema; prove it with a test.
   */
  sendTrusted<O extends TopicDefinition>(topic: O, message: MessageOf<O>, options?: TrustedSendOptions): void;
  /**
   * Adds a record of ready bytes: `value` must be the JSON of a valid message of `topic` and `key` its
   * `topic.key` (e.g. spliced from validated input and cached parts). Nothing is validated or
   * serialised; the caller proves it with a test.
   */
  sendBytes(topic: TopicDefinition, key: string, value: Buffer, options?: SendOptions): void;
  /** Adds a tombstone (deletion of `key`) for a compacted topic to the transaction. */
  sendTombstone(topic: TopicDefinition, key: string, options?: SendOptions): void;
}

/** Turns valid input messages of one partition into output messages; throw to abort and retry the batch. */
export type Transform<T> = (messages: ConsumedMessage<T>[], out: TransactionOutput) => Promise<void> | void;

/** Options of a `TransactionalProcessor`. */
export interface TransactionalProcessorOptions<D extends TopicDefinition> extends ConsumerOptions, Omit<TransactionalProducerOptions, 'transactionalId'> {
  /**
   * Stable prefix of the transactional ids, the same on every instance of the service (e.g. its
   * consumer group): the producer of input partition p has the id `<prefix>.<input topic>.<p>`.
   */
  transactionalIdPrefix: string;
  /** The input topic; its name gets `topicPrefix`, as do output topics. */
  input: D;
  transform: Transform<MessageOf<D>>;
  /** Compression of output batches. Default `none`. */
  compression?: ProducerCompression;
  /**
   * Most bytes (`recordBytes` estimate) per produce request inside a transaction; a chunk's output
   * is sent in as many requests as needed. Keep it at most the topics' `max.message.bytes` (1 MiB
   * by default): output is usually larger than its input (the enricher adds context), and a record
   * batch over the limit is refused. Default 1 MiB.
   */
  maxOutputBatchBytes?: number;
  /**
   * Partitions whose batches are decoded, transformed and committed at the same time (each
   * partition has its own transactional producer, so their transactions overlap, and one
   * partition's transform runs while another's transaction waits for the broker). Each batch's
   * output and offsets stay in one transaction, and a partition's batches stay in order. Default 2.
   */
  partitionsConsumedConcurrently?: number;
}

/**
 * Splits records into consecutive groups of at most `maxBytes` (estimated), each at least one
 * record, so one produce request never carries more than the broker accepts in a record batch.
 */
export function splitByBytes(records: readonly TopicRecord[], maxBytes: number): TopicRecord[][] {
  const sized = records.map((r) => ({ record: r, bytes: recordBytes(r.message.key, r.message.value, r.message.headers) }));
  const out: TopicRecord[][] = [];
  for (let start = 0; start < sized.length; ) {
    const n = takeBatch(sized, start, Number.POSITIVE_INFINITY, maxBytes);
    out.push(sized.slice(start, start + n).map((s) => s.record));
    start += n;
  }
  return out;
}

/** One produce request's worth of output, by topic in the order sent. */
interface OutputRequest {
  topics: Map<string, Message[]>;
  bytes: number;
  count: number;
}

/**
 * Collects a batch's output straight into produce requests of at most `maxRequestBytes` (estimated by
 * `recordBytes`; a larger record goes alone), each grouped by topic, keeping the order of what was sent.
 */
export class OutputCollector implements TransactionOutput {
  private requests: OutputRequest[] = [];
  private current: OutputRequest | undefined;
  private count = 0;

  constructor(
    private readonly prefix: string,
    private readonly maxRequestBytes: number,
  ) {}

  send<O extends TopicDefinition>(topic: O, message: MessageOf<O>, options?: SendOptions): void {
    this.push({ topic: topicName(topic, this.prefix), message: encodeRecord(topic, message, options?.headers) });
  }

  sendTrusted<O extends TopicDefinition>(topic: O, message: MessageOf<O>, options?: TrustedSendOptions): void {
    const value = options?.bytes ?? Buffer.from(options?.json ?? JSON.stringify(message));
    this.push({ topic: topicName(topic, this.prefix), message: { key: topic.key(message), value, ...(options?.headers ? { headers: options.headers as IHeaders } : {}) } });
  }

  sendBytes(topic: TopicDefinition, key: string, value: Buffer, options?: SendOptions): void {
    this.push({ topic: topicName(topic, this.prefix), message: options?.headers ? { key, value, headers: options.headers as IHeaders } : { key, value } });
  }

  sendTombstone(topic: TopicDefinition, key: string, options?: SendOptions): void {
    if (topic.cleanupPolicy !== 'compact') throw new KafkaError('KAFKA.INVALID_MESSAGE', `${topic.name} is not compacted; a null value there is invalid`);
    this.push({ topic: topicName(topic, this.prefix), message: { key, value: null, ...(options?.headers ? { headers: options.headers as IHeaders } : {}) } });
  }

  push({ topic, message }: TopicRecord): void {
    const bytes = recordBytes(message.key, message.value, message.headers);
    let request = this.current;
    if (!request || (request.count > 0 && request.bytes + bytes > this.maxRequestBytes)) {
      request = this.current = { topics: new Map(), bytes: 0, count: 0 };
      this.requests.push(request);
    }
    let messages = request.topics.get(topic);
    if (!messages) request.topics.set(topic, (messages = []));
    messages.push(message);
    request.bytes += bytes;
    request.count++;
    this.count++;
  }

  /** The produce requests collected (each as kafkajs `topicMessages`) and how many messages they hold; empties the collector. */
  drain(): { requests: TopicMessages[][]; count: number } {
    const out = { requests: this.requests.map((r) => [...r.topics].map(([topic, messages]) => ({ topic, messages }))), count: this.count };
    this.requests = [];
    this.current = undefined;
    this.count = 0;
    return out;
  }
}

type TransactionOutcome = 'committed' | 'interrupted';

/** The transactional producer of one input partition. */
interface PartitionProducer {
  readonly transactionalId: string;
  producer: Producer;
  /** Connected (the producer id initialised, a predecessor with the same id fenced) or connecting. */
  ready: Promise<void> | undefined;
  /** The transaction in progress, if any; a producer is disconnected only after it. */
  busy: Promise<unknown>;
}

/**
 * Consume-transform-produce with Kafka transactions.
 *
 * For each fetched batch of one partition it decodes and validates the input
 * (invalid messages go to `<input>.dlq`), calls `transform` per chunk, then
 * opens a transaction, sends the output and the DLQ copies, adds the input
 * offsets with `sendOffsets`, and commits. Any error aborts the transaction
 * and the same batch is processed again after a backoff; `stop()` aborts an
 * unfinished transaction.
 *
 * Each input partition has its own transactional producer, with the id
 * `<transactionalIdPrefix>.<input topic>.<partition>` on every instance (the
 * scheme of Kafka's original exactly-once design, KIP-98). So transactions of
 * different partitions run side by side, and whoever processes a partition
 * next (this process after a restart, or another instance after a rebalance)
 * fences the producer that processed it before: the broker aborts that one's
 * open transaction and refuses its further writes, so a zombie cannot commit
 * a batch its successor processes too.
 *
 * Exactly-once here means: for read_committed consumers of the output, every
 * input message's output (and DLQ copy) appears once, because output and
 * input offsets commit atomically. It does not cover side effects of
 * `transform` outside Kafka or read_uncommitted readers.
 */
export class TransactionalProcessor<D extends TopicDefinition> {
  private readonly runner: ConsumerRunner;
  private readonly topic: string;
  private readonly dlqTopic: string;
  private readonly prefix: string;
  private readonly maxChunk: number;
  private readonly compression: CompressionTypes;
  private readonly maxOutputBatchBytes: number;
  /** The transactional producer of each input partition assigned here. */
  private readonly producers = new Map<number, PartitionProducer>();
  /** The producers of the latest assignment connecting. */
  private connecting: Promise<unknown> = Promise.resolve();
  private readonly transactions: Counter<'topic' | 'group' | 'outcome'>;
  private readonly outputMessages: Counter<'topic' | 'group'>;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: TransactionalProcessorOptions<D>,
  ) {
    this.prefix = options.topicPrefix ?? '';
    this.topic = topicName(options.input, this.prefix);
    this.dlqTopic = dlqTopicName(options.input, this.prefix);
    this.maxChunk = options.maxHandlerMessages ?? Infinity;
    this.compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    this.maxOutputBatchBytes = options.maxOutputBatchBytes ?? 1024 * 1024;
    this.runner = new ConsumerRunner(kafka, options, {
      topic: this.topic,
      component: 'processor',
      // Offsets are committed by the transactions; a consumer commit would race them.
      autoCommit: false,
      // Partitions are processed side by side, each through its own producer; a partition's batches stay in order.
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 2,
      onBatch: (payload) => this.onBatch(payload),
      onAssignment: (partitions) => this.onAssignment(partitions),
    });
    this.transactions = counter(this.runner.registry, 'weir_kafka_transactions_total', 'Consume-transform-produce transactions by outcome', ['topic', 'group', 'outcome']);
    this.outputMessages = counter(this.runner.registry, 'weir_kafka_transaction_output_messages_total', 'Messages (output and DLQ) committed in transactions', ['topic', 'group']);
  }

  /** The transactional id of input partition `partition`'s producer. */
  private transactionalId(partition: number): string {
    return `${this.options.transactionalIdPrefix}.${this.topic}.${partition}`;
  }

  /**
   * Joins the group and connects the producers of the partitions assigned, each fencing its
   * predecessor with the same id (the broker aborts what that one left open), then consumes. A
   * producer that could not connect now is connected again before its partition's first transaction.
   */
  async start(): Promise<void> {
    await this.runner.start();
    await this.connecting;
  }

  /** Stops consuming (an unfinished transaction is aborted), then disconnects the producers. */
  async stop(): Promise<void> {
    try {
      await this.runner.stop();
    } finally {
      const entries = [...this.producers.values()];
      this.producers.clear();
      await Promise.all(entries.map((p) => this.disconnect(p.producer, p.transactionalId)));
    }
  }

  /** Readiness: connected, in the group, not crashed. */
  healthCheck(name?: string): HealthCheck {
    return this.runner.healthCheck(name);
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const last = batch.messages[batch.messages.length - 1];
    if (!last) return;
    const context = { partition: batch.partition, firstOffset: batch.messages[0]!.offset, lastOffset: last.offset };
    const result = await this.runner.untilDone(payload, 'transaction', context, () => this.process(payload));
    if (!result.done || result.value !== 'committed') return;
    // The offsets are committed in the transaction; this only moves the fetch position on.
    payload.resolveOffset(last.offset);
    this.runner.recordLag(batch.partition, batch.offsetLag());
  }

  private async process(payload: EachBatchPayload): Promise<TransactionOutcome> {
    const { batch } = payload;
    const { partition } = batch;
    // Decode and transform first, outside any transaction: this is the CPU work that overlaps another
    // partition's commit. Nothing of it is visible until the transaction below commits.
    const out = new OutputCollector(this.prefix, this.maxOutputBatchBytes);
    const invalidCodes: string[] = [];
    let valid = 0;
    try {
      for (const raw of chunks(batch.messages, this.maxChunk)) {
        if (!this.runner.shouldContinue(payload)) {
          this.transactions.inc({ ...this.runner.labels, outcome: 'interrupted' });
          return 'interrupted';
        }
        const decoded = decodeBatch(this.options.input, this.topic, partition, raw);
        for (const d of decoded.invalid) {
          out.push({ topic: this.dlqTopic, message: d.message });
          invalidCodes.push(d.code);
        }
        if (decoded.valid.length > 0) {
          const started = process.hrtime.bigint();
          try {
            await this.options.transform(decoded.valid, out);
          } finally {
            this.runner.metrics.handlerSeconds.observe(this.runner.labels, secondsSince(started));
          }
          valid += decoded.valid.length;
        }
      }
    } catch (err) {
      this.transactions.inc({ ...this.runner.labels, outcome: 'aborted' });
      throw new KafkaError('KAFKA.TRANSACTION_ABORTED', `partition ${partition} offsets ${batch.firstOffset() ?? '?'}..${batch.lastOffset()}: ${errorMessage(err)}`, { cause: err });
    }
    const output = out.drain();
    const outcome = await this.commit(payload, output.requests);
    if (outcome !== 'committed') return outcome;
    for (const code of invalidCodes) this.runner.metrics.dlq.inc({ ...this.runner.labels, code });
    this.runner.metrics.consumed.inc(this.runner.labels, valid);
    this.outputMessages.inc(this.runner.labels, output.count);
    return 'committed';
  }

  /** One transaction: the batch's output, then its offsets, committed together. */
  private async commit(payload: EachBatchPayload, requests: readonly TopicMessages[][]): Promise<TransactionOutcome> {
    const { batch } = payload;
    const { partition } = batch;
    // The group may have taken the partition away while the batch was being transformed.
    if (!this.runner.shouldContinue(payload)) {
      this.transactions.inc({ ...this.runner.labels, outcome: 'interrupted' });
      return 'interrupted';
    }
    const entry = this.producerOf(partition);
    let tx: Transaction | undefined;
    let finished!: () => void;
    entry.busy = new Promise<void>((resolve) => (finished = resolve));
    try {
      await this.ensureConnected(entry);
      tx = await entry.producer.transaction();
      for (const topicMessages of requests) {
        await tx.sendBatch({ topicMessages, acks: -1, compression: this.compression });
      }
      const last = batch.messages[batch.messages.length - 1]!.offset;
      await tx.sendOffsets({ consumerGroupId: this.options.groupId, topics: [{ topic: this.topic, partitions: [{ partition, offset: nextOffset(last) }] }] });
      await tx.commit();
    } catch (err) {
      this.transactions.inc({ ...this.runner.labels, outcome: 'aborted' });
      await this.abort(entry, tx, err);
      throw new KafkaError('KAFKA.TRANSACTION_ABORTED', `partition ${partition} offsets ${batch.firstOffset() ?? '?'}..${batch.lastOffset()}: ${errorMessage(err)}`, { cause: err });
    } finally {
      finished();
    }
    this.transactions.inc({ ...this.runner.labels, outcome: 'committed' });
    return 'committed';
  }

  /** The producer of `partition`, made on first use. */
  private producerOf(partition: number): PartitionProducer {
    let entry = this.producers.get(partition);
    if (!entry) {
      const transactionalId = this.transactionalId(partition);
      entry = { transactionalId, producer: createTransactionalProducer(this.kafka, { ...this.options, transactionalId }), ready: undefined, busy: Promise.resolve() };
      this.producers.set(partition, entry);
    }
    return entry;
  }

  private ensureConnected(entry: PartitionProducer): Promise<void> {
    if (!entry.ready) {
      const ready = entry.producer.connect();
      entry.ready = ready;
      // A failed connect is tried again by the next attempt instead of being remembered.
      ready.catch(() => {
        if (entry.ready === ready) entry.ready = undefined;
      });
    }
    return entry.ready;
  }

  /**
   * After a (re)join: connects the producers of the partitions assigned (so the first batch does not
   * wait for it and predecessors are fenced at once), and disconnects those of partitions no longer
   * assigned here once their transaction in progress, if any, has ended. Whoever gets such a partition
   * fences its producer anyway; this frees the connections, and a partition that comes back gets a
   * new producer.
   */
  private onAssignment(partitions: readonly number[]): void {
    const assigned = new Set(partitions);
    for (const [partition, entry] of this.producers) {
      if (assigned.has(partition)) continue;
      this.producers.delete(partition);
      void entry.busy.then(() => this.disconnect(entry.producer, entry.transactionalId));
    }
    this.connecting = Promise.allSettled(
      partitions.map((p) =>
        this.ensureConnected(this.producerOf(p)).catch((err: unknown) => {
          this.runner.logger.warn({ partition: p, err: errorMessage(err) }, 'transactional producer did not connect; trying again before the first transaction');
        }),
      ),
    );
  }

  private async disconnect(producer: Producer, transactionalId: string): Promise<void> {
    await producer.disconnect().catch((err: unknown) => this.runner.logger.debug({ transactionalId, err: errorMessage(err) }, 'disconnecting a transactional producer failed'));
  }

  private async abort(entry: PartitionProducer, tx: Transaction | undefined, cause: unknown): Promise<void> {
    const fenced = isFencedError(cause);
    if (fenced) this.runner.logger.warn({ transactionalId: entry.transactionalId }, 'producer fenced: the partition is being processed elsewhere (a rebalance, or an instance with the same id)');
    try {
      if (tx?.isActive()) await tx.abort();
      if (!fenced) return;
    } catch (err) {
      this.runner.logger.warn({ transactionalId: entry.transactionalId, err: errorMessage(err) }, 'abort failed; replacing the transactional producer');
    }
    // A producer whose abort failed (or that was fenced) cannot begin another transaction; a new one
    // with the same id makes the broker abort whatever the old one left open.
    const old = entry.producer;
    entry.producer = createTransactionalProducer(this.kafka, { ...this.options, transactionalId: entry.transactionalId });
    entry.ready = undefined;
    await this.disconnect(old, entry.transactionalId);
  }
}

/** True for the broker's answer to a producer that a newer one with the same transactional id replaced. */
export function isFencedError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const type = (e as { type?: unknown }).type;
    if (type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED') return true;
  }
  return false;
}
