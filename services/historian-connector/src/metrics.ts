import { Counter, Gauge, type Registry } from '@weir/observability';

/** The connector's own metrics (the spool adds `weir_spool_*`, the producer `weir_kafka_producer_*`). */
export interface HistorianMetrics {
  /** Samples written to the spool, by kind (`live`, `backfill`, `file`). */
  samples: Counter<'source' | 'kind'>;
  /** Calls made to the historian (HistoryRead, HTTP GET), by outcome (`ok`, `error`). */
  requests: Counter<'source' | 'outcome'>;
  /** Bad input skipped (rows, values, responses), by error code. */
  badInput: Counter<'source' | 'code'>;
  /** Tags being read live. */
  tags: Gauge<'source'>;
  /** Seconds between now and the oldest live checkpoint of the source. */
  liveLag: Gauge<'source'>;
  /** Job progress 0..1. */
  jobProgress: Gauge<'source' | 'job'>;
  /** Rows read by the job since it (re)started, per second. */
  jobRate: Gauge<'source' | 'job'>;
  /** Estimated seconds to the job's end (-1 unknown). */
  jobEta: Gauge<'source' | 'job'>;
  /** Rows read by jobs (and files). */
  jobRows: Counter<'source' | 'job'>;
  /** Files read to the end. */
  files: Counter<'source' | 'outcome'>;
}

/** Registers the connector metrics in `registry`. */
export function createHistorianMetrics(registry: Registry): HistorianMetrics {
  const registers = [registry];
  return {
    samples: new Counter({ name: 'weir_historian_samples_total', help: 'Samples written to the spool by kind (live, backfill, file)', labelNames: ['source', 'kind'], registers }),
    requests: new Counter({ name: 'weir_historian_requests_total', help: 'Calls made to the historian by outcome', labelNames: ['source', 'outcome'], registers }),
    badInput: new Counter({ name: 'weir_historian_bad_input_total', help: 'Bad rows, values or responses skipped, by error code', labelNames: ['source', 'code'], registers }),
    tags: new Gauge({ name: 'weir_historian_tags', help: 'Tags read by the source', labelNames: ['source'], registers }),
    liveLag: new Gauge({ name: 'weir_historian_live_lag_seconds', help: 'Now minus the oldest live checkpoint of the source', labelNames: ['source'], registers }),
    jobProgress: new Gauge({ name: 'weir_historian_job_progress_ratio', help: 'Fraction of a backfill job (or file) done, 0..1', labelNames: ['source', 'job'], registers }),
    jobRate: new Gauge({ name: 'weir_historian_job_rows_per_second', help: 'Rows per second of a job since it (re)started', labelNames: ['source', 'job'], registers }),
    jobEta: new Gauge({ name: 'weir_historian_job_eta_seconds', help: 'Estimated seconds to the end of a job; -1 unknown', labelNames: ['source', 'job'], registers }),
    jobRows: new Counter({ name: 'weir_historian_job_rows_total', help: 'Rows read by a job (or file)', labelNames: ['source', 'job'], registers }),
    files: new Counter({ name: 'weir_historian_files_total', help: 'Files read to the end, by outcome (ok, with_bad_rows, failed)', labelNames: ['source', 'outcome'], registers }),
  };
}
