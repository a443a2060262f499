import { Counter, Gauge, Histogram, type Registry } from '@weir/observability';

/** The service's own metrics (the Kafka producer adds `weir_kafka_producer_*`). */
export class SyncMetrics {
  /** Messages acknowledged by Kafka, by feed, entity kind and `upsert` / `tombstone`. */
  readonly published: Counter<'feed' | 'entity' | 'op'>;
  /** Records read again with nothing changed (not republished). */
  readonly unchanged: Counter<'feed'>;
  /** Failed polls, skipped records and bad files, by feed and error code. */
  readonly errors: Counter<'feed' | 'code'>;
  /** Unix time of the last poll of a feed that ran to the end (published and checkpointed). */
  readonly lastSuccess: Gauge<'feed'>;
  /** Time of one poll of a feed, read to checkpoint. */
  readonly pollDuration: Histogram<'feed' | 'mode'>;
  /** Retries of HTTP requests to SAP, by OData service and error code. */
  readonly httpRetries: Counter<'service' | 'code'>;
  /** Dropped files by outcome (`done`, `failed`). */
  readonly files: Counter<'outcome'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.published = new Counter({ name: 'weir_erp_sync_records_published_total', help: 'ERP messages acknowledged by Kafka', labelNames: ['feed', 'entity', 'op'], registers });
    this.unchanged = new Counter({ name: 'weir_erp_sync_records_unchanged_total', help: 'ERP records read again without a change, not republished', labelNames: ['feed'], registers });
    this.errors = new Counter({ name: 'weir_erp_sync_errors_total', help: 'Failed polls, records that could not be mapped and invalid files, by error code', labelNames: ['feed', 'code'], registers });
    this.lastSuccess = new Gauge({ name: 'weir_erp_sync_last_success_timestamp_seconds', help: 'When the last poll of a feed was published and checkpointed', labelNames: ['feed'], registers });
    this.pollDuration = new Histogram({ name: 'weir_erp_sync_poll_duration_seconds', help: 'Duration of one poll of a feed, from the first request to the checkpoint', labelNames: ['feed', 'mode'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers });
    this.httpRetries = new Counter({ name: 'weir_erp_sync_http_retries_total', help: 'Retried requests to SAP OData services', labelNames: ['service', 'code'], registers });
    this.files = new Counter({ name: 'weir_erp_sync_files_total', help: 'Dropped files processed, by outcome', labelNames: ['outcome'], registers });
  }
}
