import type { JsonValue, MessageOf, TelemetryRawV1, TopicDefinition } from '@weir/contracts';
import type { CheckResult, Logger } from '@weir/observability';
import type { HistorianMetrics } from '../metrics';
import type { RateLimiter } from './rate-limiter';
import type { SampleWriter } from './sample-writer';

/**
 * Where samples go: the store-and-forward spool of `@weir/kafka`. A call is
 * durable when it resolves, and its `state` (sequence number, checkpoints) is
 * written in the same frame as its messages, so after a crash the
 * checkpoints match exactly what the log holds.
 */
export interface Spool {
  appendMany<D extends TopicDefinition>(topic: D, messages: Iterable<MessageOf<D>>, options?: { state?: Readonly<Record<string, JsonValue | undefined>> }): Promise<void>;
  setState(key: string, value: JsonValue | undefined): Promise<void>;
  getState(key: string): JsonValue | undefined;
  flush(): Promise<void>;
  close(): Promise<void>;
  stats(): { bufferedRecords: number; bufferedBytes: number };
}

/** A sample as a source hands it over: the contract's fields except those the connector adds. */
export type SourceSample = Omit<TelemetryRawV1, 'sourceId' | 'seq' | 'origin'>;

/** What every source gets from the connector. */
export interface SourceContext {
  writer: SampleWriter;
  limiter: RateLimiter;
  logger: Logger;
  metrics: HistorianMetrics;
  spool: Spool;
  /** First wait after a failed read; doubles up to 30 s. */
  retryDelayMs: number;
  progressIntervalMs: number;
}

/**
 * One historian: an OPC UA server with Historical Access, a PI Web API, or a
 * folder of CSV exports. `start` begins reading (live data and the source's
 * jobs) in the background; `stop` ends it after the write in progress is
 * durable.
 */
export interface HistorianSource {
  readonly id: string;
  readonly type: 'opcua' | 'piwebapi' | 'csv';
  start(): void;
  stop(): Promise<void>;
  /** Readiness of this source (connected, tags found, no persistent failure). */
  health(): CheckResult;
}
