import { Registry, type Counter, type Gauge, type HealthCheck, type Histogram, type Logger } from '@weir/observability';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { backoffDelay, sleep, type BackoffOptions } from './backoff';
import { errorMessage, KafkaError } from './kafka-error';
import { counter, gauge, histogram, LATENCY_BUCKETS } from './metrics';

/** Consumer settings shared by `BatchConsumer` and `TransactionalProcessor`. */
export interface ConsumerOptions {
  /** Consumer group; instances with the same group share the partitions. */
  groupId: string;
  logger: Logger;
  /** Registry for the consumer metrics; a private one when absent. */
  metrics?: Registry;
  /** Prefix of topic names (the `topicPrefix` setting). Default ''. */
  topicPrefix?: string;
  /**
   * Where a group without committed offsets starts: the earliest offset (true, the
   * default, so a new service misses nothing that is still retained) or the end.
   */
  fromBeginning?: boolean;
  /** The broker drops a member it has not heard from for this long, in ms. Default 30,000. */
  sessionTimeoutMs?: number;
  /** How often the member tells the broker it is alive, in ms; also the slice of retry pauses. Default 3,000. */
  heartbeatIntervalMs?: number;
  /** How long a rebalance waits for members to rejoin, in ms. Default 60,000. */
  rebalanceTimeoutMs?: number;
  /** Most bytes fetched per partition per request; bounds a handler call's size. Default 1 MiB. */
  maxBytesPerPartition?: number;
  /** Most bytes per fetch request. Default 10 MiB. */
  maxBytes?: number;
  /** Longest wait of a fetch for `minBytes` to arrive, in ms. Default 1,000. */
  maxWaitTimeMs?: number;
  /** Bytes a fetch waits for before answering. Default 1. */
  minBytes?: number;
  /** Read messages of open and aborted transactions too. Default false (read_committed). */
  readUncommitted?: boolean;
  /** Most messages per handler call; a fetched batch is split. Default: the whole fetched batch. */
  maxHandlerMessages?: number;
  /** Backoff between retries of a failing handler. */
  retry?: BackoffOptions;
}

/** What the runner adds for the batch processor it drives. */
export interface RunnerSpec {
  /** Full topic name. */
  topic: string;
  /** `consumer` or `processor`, for logs. */
  component: string;
  /** Whether kafkajs commits resolved offsets (plain consumer) or offsets go through transactions. */
  autoCommit: boolean;
  partitionsConsumedConcurrently: number;
  onBatch: (payload: EachBatchPayload) => Promise<void>;
  /** Called with this member's partitions of `topic` after every (re)join of the group. */
  onAssignment?: (partitions: number[]) => void;
}

/** The outcome of an operation retried until it succeeds or the consumer may no longer go on. */
export type Retried<T> = { done: true; value: T } | { done: false };

/** Metrics every consumer keeps, labelled by topic and group. */
export interface ConsumerMetrics {
  consumed: Counter<'topic' | 'group'>;
  dlq: Counter<'topic' | 'group' | 'code'>;
  handlerSeconds: Histogram<'topic' | 'group'>;
  retries: Counter<'topic' | 'group' | 'stage'>;
  lag: Gauge<'topic' | 'group' | 'partition'>;
}

/**
 * The kafkajs consumer life cycle shared by the batch consumer and the
 * transactional processor: start, graceful stop, retries with backoff while
 * heartbeating, readiness and metrics. Internal to the lib.
 */
export class ConsumerRunner {
  readonly consumer: Consumer;
  readonly logger: Logger;
  readonly metrics: ConsumerMetrics;
  readonly labels: { topic: string; group: string };
  readonly registry: Registry;
  private readonly heartbeatIntervalMs: number;
  private readonly stopSignal = new AbortController();
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private stopped: Promise<void> | undefined;
  private connected = false;
  private joined = false;
  private crashed: string | undefined;
  private assigned = 0;

  constructor(
    kafka: Kafka,
    readonly options: ConsumerOptions,
    private readonly spec: RunnerSpec,
  ) {
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 3000;
    this.logger = options.logger.child({ component: `kafka-${spec.component}`, topic: spec.topic, group: options.groupId });
    this.registry = options.metrics ?? new Registry();
    this.labels = { topic: spec.topic, group: options.groupId };
    const r = this.registry;
    this.metrics = {
      consumed: counter(r, 'weir_kafka_consumer_messages_total', 'Valid messages handled (offset committed or about to be)', ['topic', 'group']),
      dlq: counter(r, 'weir_kafka_consumer_dlq_total', 'Invalid messages written to the DLQ', ['topic', 'group', 'code']),
      handlerSeconds: histogram(r, 'weir_kafka_consumer_handler_duration_seconds', 'Duration of handler (or transform) calls, failed ones included', ['topic', 'group'], LATENCY_BUCKETS),
      retries: counter(r, 'weir_kafka_consumer_retries_total', 'Retries after a failed handler, DLQ write or transaction', ['topic', 'group', 'stage']),
      lag: gauge(r, 'weir_kafka_consumer_lag', 'Messages behind the end of the partition after the last handled batch', ['topic', 'group', 'partition']),
    };
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: this.heartbeatIntervalMs,
      rebalanceTimeout: options.rebalanceTimeoutMs ?? 60_000,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
      maxBytes: options.maxBytes ?? 10 * 1024 * 1024,
      maxWaitTimeInMs: options.maxWaitTimeMs ?? 1000,
      minBytes: options.minBytes ?? 1,
      readUncommitted: options.readUncommitted ?? false,
      allowAutoTopicCreation: false,
    });
    const ev = this.consumer.events;
    this.consumer.on(ev.CONNECT, () => {
      this.connected = true;
    });
    this.consumer.on(ev.DISCONNECT, () => {
      this.connected = false;
      this.joined = false;
    });
    this.consumer.on(ev.GROUP_JOIN, (e) => {
      this.joined = true;
      this.crashed = undefined;
      const partitions = e.payload.memberAssignment[spec.topic] ?? [];
      this.assigned = partitions.length;
      this.logger.info({ partitions }, 'joined the group');
      spec.onAssignment?.(partitions);
    });
    this.consumer.on(ev.CRASH, (e) => {
      this.logger.error({ err: errorMessage(e.payload.error), restart: e.payload.restart }, 'consumer crashed');
      if (!e.payload.restart) this.crashed = errorMessage(e.payload.error);
    });
  }

  /** Connects, subscribes and joins the group; resolves once the first assignment arrived. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new KafkaError('KAFKA.CONSUMER_STATE', `cannot start a consumer that is ${this.state}`);
    this.state = 'starting';
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.spec.topic], fromBeginning: this.options.fromBeginning ?? true });
    await this.consumer.run({
      // Offsets move only when the processor resolves them, after its work succeeded.
      eachBatchAutoResolve: false,
      autoCommit: this.spec.autoCommit,
      autoCommitInterval: null,
      autoCommitThreshold: null,
      partitionsConsumedConcurrently: this.spec.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.spec.onBatch(payload),
    });
    if (this.state === 'starting') this.state = 'running';
  }

  /** Lets the batch in progress finish (its handler call, not its retries), commits, leaves the group, disconnects. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.state = 'stopping';
      this.stopSignal.abort();
      try {
        await this.consumer.stop();
        await this.consumer.disconnect();
      } finally {
        this.state = 'stopped';
        this.logger.info('consumer stopped');
      }
    })();
    return this.stopped;
  }

  /** False once the consumer is stopping or the partition was taken away or re-seeked. */
  shouldContinue(payload: EachBatchPayload): boolean {
    return !this.stopSignal.signal.aborted && payload.isRunning() && !payload.isStale();
  }

  /**
   * Runs `op` until it succeeds, treating failures as transient: log, back off
   * (exponential, capped), heartbeat while waiting, try the same work again.
   * Gives up only when the consumer must not go on (stopping, partition lost);
   * then nothing is resolved and the messages are consumed again later.
   * Heartbeat errors (a rebalance) propagate to kafkajs, which rejoins.
   */
  async untilDone<T>(payload: EachBatchPayload, stage: string, context: Record<string, unknown>, op: () => Promise<T>): Promise<Retried<T>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return { done: true, value: await this.withHeartbeats(payload, op) };
      } catch (err) {
        if (!this.shouldContinue(payload)) {
          this.logger.info({ ...context, stage, err: errorMessage(err) }, `${stage} failed while stopping; the messages will be consumed again`);
          return { done: false };
        }
        const delayMs = backoffDelay(attempt, this.options.retry);
        this.metrics.retries.inc({ ...this.labels, stage });
        this.logger.warn({ ...context, stage, attempt, delayMs, err }, `${stage} failed; retrying the same messages`);
        await this.pause(payload, delayMs);
        if (!this.shouldContinue(payload)) return { done: false };
      }
    }
  }

  /** A readiness check: connected, in the group with an assignment, not crashed. */
  healthCheck(name = `kafka-${this.spec.component}:${this.spec.topic}`): HealthCheck {
    return {
      name,
      kind: 'readiness',
      check: () => {
        if (this.state === 'stopping' || this.state === 'stopped') return { ok: false, detail: `consumer ${this.state}` };
        if (this.crashed !== undefined) return { ok: false, detail: `consumer crashed: ${this.crashed}` };
        if (!this.connected) return { ok: false, detail: 'not connected' };
        if (!this.joined) return { ok: false, detail: 'not in the group yet' };
        return { ok: true, detail: `${this.assigned} partition(s) of ${this.spec.topic} assigned` };
      },
    };
  }

  /** Records how far behind the partition end the last handled batch was. */
  recordLag(partition: number, offsetLag: string): void {
    this.metrics.lag.set({ ...this.labels, partition: String(partition) }, Number(offsetLag));
  }

  // A handler that takes longer than the session timeout must not get its partitions taken away
  // while it is making progress; rebalance errors from these heartbeats surface at the next
  // explicit heartbeat or commit.
  private async withHeartbeats<T>(payload: EachBatchPayload, op: () => Promise<T>): Promise<T> {
    const timer = setInterval(() => {
      payload.heartbeat().catch((err: unknown) => this.logger.debug({ err: errorMessage(err) }, 'heartbeat during a handler call failed'));
    }, this.heartbeatIntervalMs);
    try {
      return await op();
    } finally {
      clearInterval(timer);
    }
  }

  private async pause(payload: EachBatchPayload, ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (!this.stopSignal.signal.aborted) {
      const left = until - Date.now();
      if (left <= 0) return;
      await sleep(Math.min(left, this.heartbeatIntervalMs), this.stopSignal.signal);
      if (!this.stopSignal.signal.aborted) await payload.heartbeat();
    }
  }
}

/** The offset after `offset`, as Kafka wants committed offsets (the next one to read). */
export function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}
