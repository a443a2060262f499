import type { AlertV1, ErpWorkOrderV1, ItSecurityEventV1, OtEventV1, TelemetryEnrichedV1 } from '@weir/contracts';
import { normaliseItEvent, normaliseOtEvent, normaliseTelemetry, type AssetResolver, type DetectionEngine, type DetectionEvent } from '@weir/detection';
import type { ConsumedMessage } from '@weir/kafka';
import { Counter, Gauge, Histogram, type Logger, type Registry } from '@weir/observability';
import { serialiseCheckpoint, type CheckpointStore } from '../checkpoint/checkpoint.store';

/** Which input a batch comes from. */
export type InputKind = 'it' | 'ot' | 'telemetry' | 'work-order';

/** Where alerts go once the checkpoint that raised them is durable. */
export interface AlertSink {
  /** Resolves when Kafka acknowledged every alert. */
  publish(alerts: readonly AlertV1[]): Promise<void>;
}

/**
 * Feeds consumed batches to the engine and makes the result durable:
 * 1. skip messages at or below the offset the state already reflects (redeliveries after a restart);
 * 2. normalise and process the rest, collecting alerts in an outbox;
 * 3. checkpoint engine state + offsets + outbox atomically (group commit across concurrent batches);
 * 4. publish the outbox, then let the consumer commit its offsets.
 * After a crash the checkpoint is at or ahead of the committed offsets, so
 * nothing is missed and nothing is folded into the state twice; alerts of the
 * outbox are published again (same incident uid), at least once.
 */
export class CorrelationPipeline {
  /** Input messages handled and made durable so far, by input (redeliveries skipped not counted). */
  readonly handled: Record<InputKind, number> = { it: 0, ot: 0, telemetry: 0, 'work-order': 0 };
  private offsets: Record<string, string> = {};
  private outbox: AlertV1[] = [];
  private requested = 0;
  private completed = 0;
  private running: Promise<void> | undefined;
  private lastError: Error | undefined;
  private readonly events: Counter<string>;
  private readonly skipped: Counter<string>;
  private readonly alerts: Counter<string>;
  private readonly checkpointDuration: Histogram<string>;
  private readonly groups: Gauge<string>;
  private readonly incidents: Gauge<string>;

  constructor(
    private readonly engine: DetectionEngine,
    private readonly store: CheckpointStore,
    private readonly sink: AlertSink,
    private readonly options: { logger: Logger; metrics: Registry; resolveAsset?: AssetResolver },
  ) {
    const r = [options.metrics];
    this.events = new Counter({ name: 'weir_correlator_events_total', help: 'Input messages processed by the engine, by input', labelNames: ['input'], registers: r });
    this.skipped = new Counter({ name: 'weir_correlator_redelivered_skipped_total', help: 'Redelivered messages skipped because the checkpointed state already holds them', labelNames: ['input'], registers: r });
    this.alerts = new Counter({ name: 'weir_correlator_alerts_total', help: 'Alerts published, by activity (create, update)', labelNames: ['activity'], registers: r });
    this.checkpointDuration = new Histogram({ name: 'weir_correlator_checkpoint_duration_seconds', help: 'Time to write one checkpoint', registers: r });
    this.groups = new Gauge({ name: 'weir_correlator_open_groups', help: 'Correlation groups with events in their window', registers: r });
    this.incidents = new Gauge({ name: 'weir_correlator_open_incidents', help: 'Incidents still taking updates', registers: r });
  }

  /** Restores the last checkpoint, if any, and publishes alerts left in its outbox. */
  async init(): Promise<void> {
    const cp = await this.store.load();
    if (!cp) return;
    this.engine.restore(cp.engine);
    this.offsets = { ...cp.offsets };
    this.outbox = [...cp.outbox];
    this.options.logger.info({ partitions: Object.keys(this.offsets).length, outbox: this.outbox.length, ...this.engine.stats() }, 'restored the checkpoint');
    if (this.outbox.length > 0) await this.durable();
  }

  /** A liveness check: fails after a checkpoint write failed until one succeeds. */
  checkpointHealthy(): { ok: boolean; detail?: string } {
    return this.lastError ? { ok: false, detail: this.lastError.message } : { ok: true };
  }

  /** Handles one consumed batch of one partition. */
  async handle<T>(kind: InputKind, topic: string, partition: number, messages: ConsumedMessage<T>[]): Promise<void> {
    const key = `${topic}:${partition}`;
    const done = this.offsets[key] !== undefined ? BigInt(this.offsets[key]) : undefined;
    let processed = 0;
    let skipped = 0;
    for (const m of messages) {
      if (done !== undefined && BigInt(m.offset) <= done) {
        skipped++;
        continue;
      }
      this.apply(kind, m, key);
      this.offsets[key] = m.offset;
      processed++;
    }
    if (skipped) this.skipped.inc({ input: kind }, skipped);
    if (processed) this.events.inc({ input: kind }, processed);
    if (processed || this.outbox.length > 0) await this.durable();
    this.handled[kind] += processed;
  }

  private apply<T>(kind: InputKind, m: ConsumedMessage<T>, stream: string): void {
    if (kind === 'work-order') {
      const wo = m.value as ErpWorkOrderV1 | null;
      if (m.key) this.engine.applyWorkOrder(m.key, wo ?? undefined);
      else if (wo) this.engine.applyWorkOrder(wo.id, wo);
      return;
    }
    let event: DetectionEvent | undefined;
    if (kind === 'it') event = normaliseItEvent(m.value as ItSecurityEventV1);
    else if (kind === 'ot') event = normaliseOtEvent(m.value as OtEventV1, this.options.resolveAsset);
    else event = normaliseTelemetry(m.value as TelemetryEnrichedV1);
    if (!event) return;
    event.stream = stream;
    const alerts = this.engine.process(event);
    if (alerts.length > 0) this.outbox.push(...alerts);
  }

  /** Waits until a checkpoint written after this call started is durable and its outbox published. */
  private async durable(): Promise<void> {
    const ticket = ++this.requested;
    while (this.completed < ticket) {
      this.running ??= this.checkpointOnce().finally(() => {
        this.running = undefined;
      });
      await this.running;
    }
  }

  /** Writes a last checkpoint (so alerts already published are not in its outbox); call after the consumers stopped. */
  async close(): Promise<void> {
    await this.durable();
    if (this.lastError === undefined) await this.store.save(serialiseCheckpoint(this.offsets, this.engine.serialise(), this.outbox));
  }

  private async checkpointOnce(): Promise<void> {
    const upTo = this.requested;
    const outboxed = this.outbox.length;
    const end = this.checkpointDuration.startTimer();
    try {
      // The state serialised as it is now (no copy of it first): later batches do not change what is written.
      await this.store.save(serialiseCheckpoint(this.offsets, this.engine.serialise(), this.outbox.slice(0, outboxed)));
      this.lastError = undefined;
    } catch (err) {
      this.lastError = err as Error;
      throw err;
    } finally {
      end();
    }
    const stats = this.engine.stats();
    this.groups.set(stats.groups);
    this.incidents.set(stats.incidents);
    if (outboxed > 0) {
      const batch = this.outbox.slice(0, outboxed);
      await this.sink.publish(batch);
      this.outbox.splice(0, outboxed);
      for (const a of batch) this.alerts.inc({ activity: a.activity_id === 1 ? 'create' : 'update' });
    }
    this.completed = upTo;
  }
}
