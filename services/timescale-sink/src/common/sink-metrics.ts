import { Counter, Gauge, Histogram, type Registry } from '@weir/observability';

// Batch write latency: a few ms for a small batch up to seconds for 10k rows on a busy disk.
const BATCH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The sink's own metrics. Consumer lag, messages consumed, DLQ counts and
 * handler retries come from `@weir/kafka` on the same registry
 * (`weir_kafka_consumer_lag`, `..._messages_total`, `..._dlq_total`, `..._retries_total`).
 */
export class SinkMetrics {
  /** Rows stored, by table (`rate()` of it is rows/s). */
  readonly rows: Counter<'table'>;
  /** Rows offered that were already stored (replays, redeliveries), by table. */
  readonly deduplicated: Counter<'table'>;
  /** Time to write one batch (transaction included), by feed and outcome. */
  readonly batchSeconds: Histogram<'feed' | 'outcome'>;
  /** Failed database operations, by operation (write, rollups, sequence-gaps, retention). */
  readonly dbErrors: Counter<'operation'>;
  /** 1 while the last database write succeeded, 0 after a failure until the next success. */
  readonly dbUp: Gauge;
  /** Switches to the upsert path (replay mode) after a direct COPY met rows already stored. */
  readonly upsertFallbacks: Counter;
  /** Background job passes, by job and outcome. */
  readonly jobRuns: Counter<'job' | 'outcome'>;
  /** Sequence gaps and connector-reported gaps recorded. */
  readonly gaps: Counter<'detected_by'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.rows = new Counter({ name: 'weir_sink_rows_written_total', help: 'Rows stored in TimescaleDB, by table', labelNames: ['table'], registers });
    this.deduplicated = new Counter({ name: 'weir_sink_rows_deduplicated_total', help: 'Rows offered that were already stored (replay or redelivery), by table', labelNames: ['table'], registers });
    this.batchSeconds = new Histogram({ name: 'weir_sink_batch_duration_seconds', help: 'Time to write one batch in one transaction, by feed and outcome', labelNames: ['feed', 'outcome'], buckets: BATCH_BUCKETS, registers });
    this.dbErrors = new Counter({ name: 'weir_sink_db_errors_total', help: 'Failed database operations, by operation', labelNames: ['operation'], registers });
    this.dbUp = new Gauge({ name: 'weir_sink_db_up', help: '1 while the last database write succeeded, 0 after a failure until the next success', registers });
    this.upsertFallbacks = new Counter({ name: 'weir_sink_upsert_fallbacks_total', help: 'Telemetry batches whose direct COPY met rows already stored, so the sink switched to the staged upsert (replay mode)', registers });
    this.jobRuns = new Counter({ name: 'weir_sink_job_runs_total', help: 'Background job passes, by job and outcome', labelNames: ['job', 'outcome'], registers });
    this.gaps = new Counter({ name: 'weir_sink_gaps_recorded_total', help: 'Data gaps recorded, by who detected them', labelNames: ['detected_by'], registers });
    this.dbUp.set(1);
  }
}
