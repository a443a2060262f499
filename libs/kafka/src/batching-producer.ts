import { topicName, type MessageOf, type TopicDefinition } from '@weir/contracts';
import { Registry, type Counter, type Gauge, type Histogram, type Logger } from '@weir/observability';
import { CompressionTypes, type IHeaders, type Kafka, type Message, type Producer } from 'kafkajs';
import { FastDefaultPartitioner } from './partitioner';
import { groupByTopic, recordBytes, takeBatch, type MessageHeaders, type TopicRecord } from './batching';
import { encodeRecord } from './encode-record';
import { errorMessage, KafkaError } from './kafka-error';
import { counter, gauge, histogram, LATENCY_BUCKETS, secondsSince } from './metrics';

/** Compression of produced batches; kafkajs has only gzip built in. */
export type ProducerCompression = 'none' | 'gzip';

/** Tuning of a `BatchingProducer`. */
export interface BatchingProducerOptions {
  logger: Logger;
  /** Registry for the producer metrics; a private one when absent. */
  metrics?: Registry;
  /** Label of this producer's metrics and logs, e.g. `main` or `dlq`. Default `main`. */
  name?: string;
  /** Prefix added to topic definitions' names (the `topicPrefix` setting). Default ''. */
  topicPrefix?: string;
  /** How long the first message of a batch waits for others before the batch is sent, in ms. Default 5. */
  lingerMs?: number;
  /** Most messages in one `sendBatch`. Default 10,000. */
  maxBatchMessages?: number;
  /**
   * Most bytes (uncompressed estimate) in one `sendBatch`. Default 1 MiB, which keeps
   * every per-partition record batch under the brokers' default `message.max.bytes`.
   */
  maxBatchBytes?: number;
  /** Most messages accepted but not yet acknowledged; `send` waits beyond this. Default 50,000. */
  maxBufferedMessages?: number;
  /** Most bytes accepted but not yet acknowledged; `send` waits beyond this. Default 32 MiB. */
  maxBufferedBytes?: number;
  /** Batch compression. Default `none` (gzip costs CPU the shared 2-core machines do not have to spare). */
  compression?: ProducerCompression;
  /**
   * How often kafkajs retries a batch on retriable errors before the batch fails with
   * `KAFKA.SEND_FAILED`. Default 8 (about a minute with kafkajs' backoff).
   */
  retries?: number;
  /** How long the broker may take to replicate a batch to all in-sync replicas (acks=all), in ms. Default 30,000. */
  ackTimeoutMs?: number;
}

/** Options of one message. */
export interface SendOptions {
  /** Headers to attach (correlation ids, trace context); never payload copies. */
  headers?: MessageHeaders;
}

/** A message that is not validated: DLQ copies and replays. The topic name is used as given. */
export interface RawMessage {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: IHeaders;
}

/** A message accepted into the producer's buffer; `delivered` settles when Kafka acknowledged its batch. */
export interface Delivery {
  /** Resolves on acknowledgement; rejects with `KAFKA.SEND_FAILED`. Already marked handled, so not awaiting it is not an unhandled rejection. */
  delivered: Promise<void>;
}

interface Pending extends TopicRecord {
  bytes: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Waiter {
  bytes: number;
  admit: () => void;
  refuse: (err: Error) => void;
}

const noop = (): void => undefined;

/**
 * An idempotent kafkajs producer (acks=all) that batches messages across calls.
 *
 * Messages are validated and keyed by their topic definition, buffered, and
 * sent with `sendBatch` after `lingerMs` or when a batch is full. One batch is
 * in flight at a time, which keeps per-key order across batches (a later batch
 * cannot overtake a retried earlier one); the next batch gathers meanwhile.
 * The buffer is bounded: when it is full, `send` waits (back-pressure) rather
 * than growing memory. `send` resolves only once Kafka acknowledged the batch
 * holding the message and rejects with `KAFKA.SEND_FAILED` otherwise; nothing
 * is dropped silently. A failed message may still have been written (the
 * broker may have taken it before the error): consumers deduplicate by
 * source id and sequence number.
 */
export class BatchingProducer {
  private readonly logger: Logger;
  private readonly prefix: string;
  private readonly lingerMs: number;
  private readonly maxBatchMessages: number;
  private readonly maxBatchBytes: number;
  private readonly maxBufferedMessages: number;
  private readonly maxBufferedBytes: number;
  private readonly compression: CompressionTypes;
  private readonly ackTimeoutMs: number;
  private readonly retries: number;

  private producer: Producer;
  private ready: Promise<void> | undefined;
  private queue: Pending[] = [];
  private head = 0;
  private queuedBytes = 0;
  private bufferedMessages = 0;
  private bufferedBytes = 0;
  private readonly waiters: Waiter[] = [];
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing = 0;
  private accepted = 0;
  private settled = 0;
  private failedBatches = 0;
  private closed = false;
  private closing: Promise<void> | undefined;

  private readonly m: {
    messages: Counter<'producer' | 'topic'>;
    bytes: Counter<'producer' | 'topic'>;
    batches: Counter<'producer'>;
    errors: Counter<'producer'>;
    latency: Histogram<'producer'>;
    buffered: Gauge<'producer'>;
  };
  private readonly label: { producer: string };

  constructor(
    private readonly kafka: Kafka,
    options: BatchingProducerOptions,
  ) {
    const name = options.name ?? 'main';
    this.logger = options.logger.child({ component: 'kafka-producer', producer: name });
    this.prefix = options.topicPrefix ?? '';
    this.lingerMs = options.lingerMs ?? 5;
    this.maxBatchMessages = options.maxBatchMessages ?? 10_000;
    this.maxBatchBytes = options.maxBatchBytes ?? 1024 * 1024;
    this.maxBufferedMessages = options.maxBufferedMessages ?? 50_000;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 32 * 1024 * 1024;
    this.compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 30_000;
    this.retries = options.retries ?? 8;
    if (this.maxBufferedMessages < this.maxBatchMessages) throw new RangeError('maxBufferedMessages must be at least maxBatchMessages');

    const registry = options.metrics ?? new Registry();
    this.label = { producer: name };
    this.m = {
      messages: counter(registry, 'weir_kafka_producer_messages_total', 'Messages acknowledged by Kafka', ['producer', 'topic']),
      bytes: counter(registry, 'weir_kafka_producer_bytes_total', 'Bytes (uncompressed estimate) acknowledged by Kafka', ['producer', 'topic']),
      batches: counter(registry, 'weir_kafka_producer_batches_total', 'Batches acknowledged by Kafka', ['producer']),
      errors: counter(registry, 'weir_kafka_producer_send_errors_total', 'Batches that failed; every message in them was reported to its sender', ['producer']),
      latency: histogram(registry, 'weir_kafka_producer_send_duration_seconds', 'Time from sendBatch to acknowledgement', ['producer'], LATENCY_BUCKETS),
      buffered: gauge(registry, 'weir_kafka_producer_buffered_messages', 'Messages accepted but not yet acknowledged', ['producer']),
    };
    this.producer = this.createProducer();
  }

  /** Connects (also done on the first send); resolves once the producer id is assigned. */
  async connect(): Promise<void> {
    if (this.closed) throw new KafkaError('KAFKA.PRODUCER_CLOSED', 'the producer is closed');
    await this.ensureReady();
  }

  /** The full topic name of a definition for this deployment. */
  topicName(topic: TopicDefinition): string {
    return topicName(topic, this.prefix);
  }

  /** Sends one message; resolves when Kafka acknowledged it, waits first while the buffer is full. */
  async send<D extends TopicDefinition>(topic: D, message: MessageOf<D>, options?: SendOptions): Promise<void> {
    const { delivered } = await this.enqueue(topic, message, options);
    await delivered;
  }

  /**
   * Sends messages of one topic; resolves when all are acknowledged, rejects if any failed.
   * An invalid message stops the call there: the ones before it are still sent.
   */
  async sendMany<D extends TopicDefinition>(topic: D, messages: Iterable<MessageOf<D>>, options?: SendOptions): Promise<void> {
    const deliveries: Promise<void>[] = [];
    for (const message of messages) deliveries.push((await this.enqueue(topic, message, options)).delivered);
    await Promise.all(deliveries);
  }

  /**
   * Validates and buffers one message, waiting while the buffer is full, and
   * returns once it is accepted. Use it to keep many messages in flight from
   * one loop; await `delivered` (or `flush()`) for the acknowledgement.
   */
  async enqueue<D extends TopicDefinition>(topic: D, message: MessageOf<D>, options?: SendOptions): Promise<Delivery> {
    return this.enqueueRecord(this.topicName(topic), encodeRecord(topic, message, options?.headers));
  }

  /** Sends a tombstone (deletion of `key`) to a compacted topic. */
  async sendTombstone(topic: TopicDefinition, key: string, options?: SendOptions): Promise<void> {
    if (topic.cleanupPolicy !== 'compact') throw new KafkaError('KAFKA.INVALID_MESSAGE', `${topic.name} is not compacted; a null value there is invalid`);
    const { delivered } = await this.enqueueRecord(this.topicName(topic), { key, value: null, ...(options?.headers ? { headers: options.headers as IHeaders } : {}) });
    await delivered;
  }

  /** Sends a message as is, without validation, to a full topic name (DLQ copies, replays). */
  async sendRaw(topic: string, message: RawMessage): Promise<void> {
    const { delivered } = await this.enqueueRaw(topic, message);
    await delivered;
  }

  /** Buffers a message as is to a full topic name; see `enqueue`. */
  enqueueRaw(topic: string, message: RawMessage): Promise<Delivery> {
    return this.enqueueRecord(topic, { key: message.key, value: message.value, ...(message.headers ? { headers: message.headers } : {}) });
  }

  /**
   * Sends what is buffered now and waits until it is acknowledged; rejects with
   * `KAFKA.SEND_FAILED` if any batch failed meanwhile (its senders got the error too).
   */
  async flush(): Promise<void> {
    const target = this.accepted;
    const failedBefore = this.failedBatches;
    this.flushing++;
    try {
      while (this.settled < target) {
        this.sendNext();
        if (this.inFlight) await this.inFlight;
      }
    } finally {
      this.flushing--;
    }
    const failed = this.failedBatches - failedBefore;
    if (failed > 0) throw new KafkaError('KAFKA.SEND_FAILED', `${failed} batch(es) failed while flushing; each sender got the error`);
  }

  /** Refuses new messages, flushes what was accepted, then disconnects. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Messages and bytes accepted but not yet acknowledged. */
  get buffered(): { messages: number; bytes: number } {
    return { messages: this.bufferedMessages, bytes: this.bufferedBytes };
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    const refused = new KafkaError('KAFKA.PRODUCER_CLOSED', 'the producer closed before the message was accepted');
    for (const w of this.waiters.splice(0)) w.refuse(refused);
    try {
      await this.flush();
    } finally {
      clearTimeout(this.timer);
      await this.producer.disconnect();
      this.logger.info('producer closed');
    }
  }

  private createProducer(): Producer {
    // Explicit partitioner: the Java-compatible murmur2 one, so keys land where other Kafka clients put them
    // (and kafkajs stops warning about its v2 default change).
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: FastDefaultPartitioner,
      retry: { retries: this.retries },
    });
  }

  private ensureReady(): Promise<void> {
    if (!this.ready) {
      const ready = this.producer.connect();
      ready.catch(noop);
      this.ready = ready;
      // A failed connect is retried by the next batch instead of failing every batch forever.
      ready.catch(() => {
        if (this.ready === ready) this.ready = undefined;
      });
    }
    return this.ready;
  }

  private async enqueueRecord(topic: string, message: Message): Promise<Delivery> {
    if (this.closed) throw new KafkaError('KAFKA.PRODUCER_CLOSED', 'the producer is closed');
    const bytes = recordBytes(message.key, message.value, message.headers);
    if (this.waiters.length > 0 || !this.hasRoom(bytes)) {
      await new Promise<void>((admit, refuse) => this.waiters.push({ bytes, admit, refuse }));
    } else {
      this.reserve(bytes);
    }
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const delivered = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    delivered.catch(noop);
    this.queue.push({ topic, message, bytes, resolve, reject });
    this.queuedBytes += bytes;
    this.accepted++;
    this.schedule();
    return { delivered };
  }

  // An empty buffer always takes one message, so one larger than the byte bound cannot wait forever.
  private hasRoom(bytes: number): boolean {
    return this.bufferedMessages === 0 || (this.bufferedMessages < this.maxBufferedMessages && this.bufferedBytes + bytes <= this.maxBufferedBytes);
  }

  private reserve(bytes: number): void {
    this.bufferedMessages++;
    this.bufferedBytes += bytes;
  }

  // Capacity is reserved for a waiter before it is woken, so a sender arriving in between cannot take it.
  private admitWaiters(): void {
    while (this.waiters.length > 0 && this.hasRoom(this.waiters[0]!.bytes)) {
      const w = this.waiters.shift()!;
      this.reserve(w.bytes);
      w.admit();
    }
  }

  private get queued(): number {
    return this.queue.length - this.head;
  }

  private schedule(): void {
    if (this.inFlight) return; // the end of the batch in flight sends the next one
    if (this.queued >= this.maxBatchMessages || this.queuedBytes >= this.maxBatchBytes || this.flushing > 0) {
      this.sendNext();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.sendNext();
    }, this.lingerMs);
  }

  private sendNext(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.inFlight || this.queued === 0) return;
    const n = takeBatch(this.queue, this.head, this.maxBatchMessages, this.maxBatchBytes);
    const batch = this.queue.slice(this.head, this.head + n);
    this.head += n;
    // Drop the consumed head now and then instead of shifting on every batch.
    if (this.head > 10_000 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    for (const p of batch) this.queuedBytes -= p.bytes;
    this.m.buffered.set(this.label, this.bufferedMessages);
    this.inFlight = this.transmit(batch).finally(() => {
      this.inFlight = undefined;
      for (const p of batch) {
        this.bufferedMessages--;
        this.bufferedBytes -= p.bytes;
      }
      this.settled += batch.length;
      this.admitWaiters();
      // Whatever gathered while this batch was in flight has waited long enough.
      if (this.queued > 0) this.sendNext();
      this.m.buffered.set(this.label, this.bufferedMessages);
    });
  }

  private async transmit(batch: Pending[]): Promise<void> {
    const topicMessages = groupByTopic(batch);
    const started = process.hrtime.bigint();
    try {
      await this.ensureReady();
      await this.producer.sendBatch({ topicMessages, acks: -1, timeout: this.ackTimeoutMs, compression: this.compression });
    } catch (err) {
      this.failedBatches++;
      this.m.errors.inc(this.label);
      const topics = topicMessages.map((t) => t.topic);
      this.logger.error({ err: errorMessage(err), messages: batch.length, topics }, 'batch not acknowledged; its senders get KAFKA.SEND_FAILED');
      const error = new KafkaError('KAFKA.SEND_FAILED', `${batch.length} message(s) to ${topics.join(', ')} not acknowledged: ${errorMessage(err)}`, { cause: err });
      for (const p of batch) p.reject(error);
      await this.resetProducer();
      return;
    }
    this.m.latency.observe(this.label, secondsSince(started));
    this.m.batches.inc(this.label);
    const bytesByTopic = new Map<string, number>();
    for (const p of batch) bytesByTopic.set(p.topic, (bytesByTopic.get(p.topic) ?? 0) + p.bytes);
    for (const t of topicMessages) {
      this.m.messages.inc({ ...this.label, topic: t.topic }, t.messages.length);
      this.m.bytes.inc({ ...this.label, topic: t.topic }, bytesByTopic.get(t.topic) ?? 0);
    }
    for (const p of batch) p.resolve();
  }

  // After a failed batch the broker may hold it anyway. Its sequence numbers would then be reused
  // by the next batch, which the broker could take for a duplicate and drop without an error; a
  // new producer id makes that impossible.
  private async resetProducer(): Promise<void> {
    const old = this.producer;
    this.producer = this.createProducer();
    this.ready = undefined;
    try {
      await old.disconnect();
    } catch (err) {
      this.logger.warn({ err: errorMessage(err) }, 'disconnecting the failed producer failed');
    }
  }
}
