import { itSecurityEventsV1, type ItSecurityEventV1 } from '@weir/contracts';
import { isKafkaError, type BatchingProducer, type Delivery } from '@weir/kafka';
import type { HealthCheck, Logger } from '@weir/observability';
import { messageOf } from '../errors';
import type { ItEventsMetrics } from '../it-events.metrics';
import type { Transport } from '../normalise/normaliser';

/** Options of the event sink. */
export interface EventSinkOptions {
  producer: BatchingProducer;
  metrics: ItEventsMetrics;
  logger: Logger;
  /**
   * Most events accepted and not yet acknowledged. Stream receivers wait
   * beyond it (they stop reading their sockets), UDP datagrams are dropped
   * and counted, HTTP requests wait.
   */
  maxPending: number;
  /** Delay before a syslog event whose delivery failed is sent again, in ms. */
  retryDelayMs: number;
  /** Turns an event the topic schema refused (a parser bug) into a class-0 event that keeps the input. */
  onInvalid: (event: ItSecurityEventV1, reason: string) => ItSecurityEventV1;
}

/**
 * The one way events leave the service: into the batching idempotent
 * producer of `@weir/kafka`, bounded by `maxPending`. Syslog senders get no
 * acknowledgement, so a failed delivery is retried here until it succeeds or
 * the service stops; HTTP callers are told instead (`publishAndWait`).
 */
export class EventSink {
  private pending = 0;
  private readonly roomWaiters: (() => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private readonly retrying = new Map<NodeJS.Timeout, Transport>();
  private abandoned = false;
  private failingSince: number | undefined;
  private lastError: string | undefined;

  constructor(private readonly options: EventSinkOptions) {}

  /** True when another event fits without waiting. */
  get hasRoom(): boolean {
    return this.pending < this.options.maxPending;
  }

  /** Events accepted and not yet acknowledged. */
  get pendingEvents(): number {
    return this.pending;
  }

  /**
   * Accepts a syslog event: waits while `maxPending` events are outstanding
   * (back-pressure for stream receivers), then hands it to the producer.
   * Resolves when it is accepted, not when Kafka acknowledged it.
   */
  async submit(event: ItSecurityEventV1, transport: Transport): Promise<void> {
    while (!this.hasRoom) {
      this.options.metrics.pauses.inc({ transport });
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
    this.track(1);
    await this.enqueueRetrying(event, transport);
  }

  /** Accepts a UDP event if there is room now; false (and counted as dropped) when there is not: UDP cannot be paused. */
  offer(event: ItSecurityEventV1, transport: Transport): boolean {
    if (!this.hasRoom) {
      this.options.metrics.dropped.inc({ transport, code: 'IT_EVENTS.BUFFER_FULL' });
      return false;
    }
    this.track(1);
    this.enqueueRetrying(event, transport).catch((err: unknown) => this.options.logger.error({ err: messageOf(err) }, 'accepting a datagram event failed'));
    return true;
  }

  /** Publishes events and resolves once Kafka acknowledged all of them; rejects on the first failure (no retry: the caller is told). */
  async publishAndWait(events: readonly ItSecurityEventV1[], transport: Transport): Promise<void> {
    const deliveries: Promise<void>[] = [];
    for (const event of events) {
      while (!this.hasRoom) await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
      this.track(1);
      let delivery: Delivery;
      try {
        delivery = await this.enqueueValid(event);
      } catch (err) {
        this.track(-1);
        throw err;
      }
      deliveries.push(
        delivery.delivered.then(
          () => this.delivered(),
          (err: unknown) => {
            this.track(-1);
            this.failed(transport, err);
            throw err;
          },
        ),
      );
    }
    const results = await Promise.allSettled(deliveries);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  }

  /** Resolves when every accepted event is acknowledged (or abandoned). */
  drain(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops retrying: events waiting for a retry are counted as dropped. Returns how many. */
  abandonRetries(): number {
    this.abandoned = true;
    let n = 0;
    for (const [timer, transport] of this.retrying) {
      clearTimeout(timer);
      this.options.metrics.dropped.inc({ transport, code: 'IT_EVENTS.PUBLISH_FAILED' });
      this.track(-1);
      n++;
    }
    this.retrying.clear();
    return n;
  }

  /** Readiness: not ready while deliveries are failing (the detail says since when and why). */
  healthCheck(): HealthCheck {
    return {
      name: 'kafka-publish',
      kind: 'readiness',
      check: () =>
        this.failingSince === undefined
          ? { ok: true, detail: `${this.pending} event(s) pending` }
          : { ok: false, detail: `deliveries failing since ${new Date(this.failingSince).toISOString()}: ${this.lastError ?? ''}` },
    };
  }

  private async enqueueRetrying(event: ItSecurityEventV1, transport: Transport): Promise<void> {
    let delivery: Delivery;
    try {
      delivery = await this.enqueueValid(event);
    } catch (err) {
      // The producer is closed: the service is past its drain.
      this.options.metrics.dropped.inc({ transport, code: 'IT_EVENTS.PUBLISH_FAILED' });
      this.options.logger.error({ err: messageOf(err) }, 'event not accepted by the producer');
      this.track(-1);
      return;
    }
    delivery.delivered.then(
      () => this.delivered(),
      (err: unknown) => {
        this.failed(transport, err);
        if (this.abandoned) {
          this.options.metrics.dropped.inc({ transport, code: 'IT_EVENTS.PUBLISH_FAILED' });
          this.track(-1);
          return;
        }
        const timer = setTimeout(() => {
          this.retrying.delete(timer);
          this.enqueueRetrying(event, transport).catch((e: unknown) => this.options.logger.error({ err: messageOf(e) }, 'retrying an event failed'));
        }, this.options.retryDelayMs);
        this.retrying.set(timer, transport);
      },
    );
  }

  private async enqueueValid(event: ItSecurityEventV1): Promise<Delivery> {
    try {
      return await this.options.producer.enqueue(itSecurityEventsV1, event);
    } catch (err) {
      if (!isKafkaError(err, 'KAFKA.INVALID_MESSAGE')) throw err;
      this.options.logger.error({ err: messageOf(err), uid: event.uid }, 'a parser produced an invalid event; kept as class 0');
      return this.options.producer.enqueue(itSecurityEventsV1, this.options.onInvalid(event, messageOf(err)));
    }
  }

  private delivered(): void {
    if (this.failingSince !== undefined) this.options.logger.info('Kafka deliveries succeed again');
    this.failingSince = undefined;
    this.track(-1);
  }

  private failed(transport: Transport, err: unknown): void {
    this.options.metrics.publishFailures.inc({ transport });
    this.failingSince ??= Date.now();
    this.lastError = messageOf(err);
    this.options.logger.warn({ err: this.lastError, transport }, 'IT_EVENTS.PUBLISH_FAILED: event not acknowledged by Kafka');
  }

  private track(delta: number): void {
    this.pending += delta;
    this.options.metrics.pending.set(this.pending);
    while (this.hasRoom && this.roomWaiters.length > 0) this.roomWaiters.shift()!();
    if (this.pending === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
