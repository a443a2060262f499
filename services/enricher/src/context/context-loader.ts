import { decode, erpAssetsV1, erpProductionOrdersV1, erpShiftsV1, erpWorkOrdersV1, topicName, type TopicDefinition } from '@weir/contracts';
import type { Counter, HealthCheck, Logger, Registry } from '@weir/observability';
import { Counter as PromCounter } from '@weir/observability';
import type { Consumer, Kafka } from 'kafkajs';
import { EnricherError } from '../errors';
import type { ContextKind, ContextStore } from './context-store';

const SOURCES: readonly { kind: ContextKind; topic: TopicDefinition }[] = [
  { kind: 'asset', topic: erpAssetsV1 },
  { kind: 'productionOrder', topic: erpProductionOrdersV1 },
  { kind: 'workOrder', topic: erpWorkOrdersV1 },
  { kind: 'shift', topic: erpShiftsV1 },
];

/** Options of the context loader. */
export interface ContextLoaderOptions {
  logger: Logger;
  metrics: Registry;
  topicPrefix: string;
  /**
   * Consumer group of this instance's context consumer. It must be unique per
   * process: every instance needs every partition of the ERP topics, and it
   * never commits (the state is rebuilt from the beginning on every start).
   */
  groupId: string;
  /** How long `loaded()` may take before it fails. */
  timeoutMs: number;
}

function getOrCreateCounter(registry: Registry, name: string, help: string, labelNames: string[]): Counter<string> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<string>;
  return new PromCounter({ name, help, labelNames, registers: [registry] });
}

/**
 * Reads the four compacted ERP topics from the beginning into a
 * {@link ContextStore} and keeps consuming them, so changes arrive while the
 * enricher runs. `loaded()` resolves once every partition was read up to the
 * end offset it had when the loader started: the enricher must not process
 * telemetry before that, or early samples would miss context that exists.
 */
export class ContextLoader {
  private readonly consumer: Consumer;
  private readonly versions: Counter<string>;
  private readonly invalid: Counter<string>;
  /** `topic:partition` -> offset that must be passed before the initial load is complete. */
  private readonly pending = new Map<string, bigint>();
  private isLoaded = false;
  private resolveLoaded: (() => void) | undefined;
  private readonly loadedPromise: Promise<void>;
  private readonly kindByTopic = new Map<string, ContextKind>();
  private readonly topicByName = new Map<string, TopicDefinition>();

  constructor(
    private readonly kafka: Kafka,
    private readonly store: ContextStore,
    private readonly options: ContextLoaderOptions,
  ) {
    this.consumer = kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 500, readUncommitted: false });
    this.versions = getOrCreateCounter(options.metrics, 'weir_enricher_context_versions_total', 'ERP context records applied (versions and deletions)', ['kind']);
    this.invalid = getOrCreateCounter(options.metrics, 'weir_enricher_context_invalid_total', 'ERP context records skipped because they failed their schema', ['kind', 'code']);
    for (const s of SOURCES) {
      const name = topicName(s.topic, options.topicPrefix);
      this.kindByTopic.set(name, s.kind);
      this.topicByName.set(name, s.topic);
    }
    this.loadedPromise = new Promise<void>((resolve) => {
      this.resolveLoaded = resolve;
    });
  }

  /** Records the end offsets, then starts consuming from the beginning. Resolves once consuming runs (not once loaded). */
  async start(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      for (const name of this.kindByTopic.keys()) {
        for (const p of await admin.fetchTopicOffsets(name)) {
          // `high` is the next offset to be written; everything before it belongs to the initial state.
          if (BigInt(p.high) > BigInt(p.low)) this.pending.set(`${name}:${p.partition}`, BigInt(p.high));
        }
      }
    } finally {
      await admin.disconnect();
    }
    this.checkLoaded();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.kindByTopic.keys()], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        const kind = this.kindByTopic.get(batch.topic)!;
        const topic = this.topicByName.get(batch.topic)!;
        for (const m of batch.messages) {
          const key = m.key?.toString('utf8');
          const d = decode(topic, m.value);
          if (!d.ok || !key) {
            this.invalid.inc({ kind, code: d.ok ? 'ENRICHMENT.CONTEXT_NO_KEY' : d.code });
            this.options.logger.warn({ topic: batch.topic, partition: batch.partition, offset: m.offset, code: d.ok ? 'ENRICHMENT.CONTEXT_NO_KEY' : d.code }, 'skipping an invalid context record');
            continue;
          }
          // The overloads of apply() pair each kind with its record type; the topic fixes both here.
          (this.store.apply as (k: ContextKind, id: string, r: unknown) => void)(kind, key, d.value);
          this.versions.inc({ kind });
        }
        const last = batch.lastOffset();
        const k = `${batch.topic}:${batch.partition}`;
        const end = this.pending.get(k);
        // Compaction and transaction markers leave holes, so compare against the fetch's high watermark too.
        if (end !== undefined && (BigInt(last) + 1n >= end || BigInt(batch.highWatermark) >= end && batch.offsetLag() === '0')) {
          this.pending.delete(k);
          this.checkLoaded();
        }
        await heartbeat();
      },
    });
  }

  /** Resolves once the state is rebuilt to the end offsets seen at start; fails after `timeoutMs`. */
  async loaded(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EnricherError('ENRICHMENT.CONTEXT_LOAD_TIMEOUT', `context not loaded within ${this.options.timeoutMs} ms; ${this.pending.size} partition(s) behind: ${[...this.pending.keys()].join(', ')}`)), this.options.timeoutMs);
    });
    try {
      await Promise.race([this.loadedPromise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Readiness: fails until the context is loaded. */
  healthCheck(): HealthCheck {
    return {
      name: 'context',
      kind: 'readiness',
      check: () => (this.isLoaded ? { ok: true, detail: `${this.store.versionsApplied} context versions applied` } : { ok: false, detail: `loading: ${this.pending.size} partition(s) behind` }),
    };
  }

  /** Stops consuming and disconnects. */
  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  private checkLoaded(): void {
    if (this.isLoaded || this.pending.size > 0) return;
    this.isLoaded = true;
    this.options.logger.info({ versions: this.store.versionsApplied, sizes: this.store.sizes() }, 'context loaded');
    this.resolveLoaded?.();
  }
}
