import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@weir/observability';
import { enforceRetention, setChunkTimeInterval, setRetention, type RetentionRunResult } from '@weir/timescale';
import type { Pool } from 'pg';
import type { SinkSettings } from '../config';
import { PeriodicJob } from '../common/periodic-job';
import { SinkMetrics } from '../common/sink-metrics';
import { StorageEdition } from '../common/storage-edition';
import { LOGGER, PG_POOL, SINK_SETTINGS } from '../common/tokens';

/**
 * Retention and chunk settings: applies `sink.retention.dropAfter` and
 * `sink.chunkIntervals` at start-up, and drops expired chunks of the tables
 * the platform enforces every `sink.retention.enforceIntervalMs` (on the
 * Timescale licence TimescaleDB's policies do that for the others).
 */
@Injectable()
export class RetentionService {
  private readonly job: PeriodicJob;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(SINK_SETTINGS) private readonly settings: SinkSettings,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(StorageEdition) private readonly edition: StorageEdition,
    @Inject(SinkMetrics) private readonly metrics: SinkMetrics,
  ) {
    this.job = new PeriodicJob({
      name: 'retention',
      intervalMs: settings.sink.retention.enforceIntervalMs,
      logger,
      run: async () => {
        await this.enforce();
      },
      onError: () => {
        this.metrics.jobRuns.inc({ job: 'retention', outcome: 'failed' });
        this.metrics.dbErrors.inc({ operation: 'retention' });
      },
    });
  }

  /** Writes the configured retention and chunk intervals to the database. */
  async applySettings(): Promise<void> {
    const license = this.edition.license;
    if (license === null) throw new Error('SINK.STARTUP_FAILED: the database edition is not known yet');
    for (const [hypertable, ms] of Object.entries(this.settings.sink.retention.dropAfter)) {
      await setRetention(this.pool, hypertable, ms, license);
      this.logger.info({ hypertable, dropAfterMs: ms }, 'retention set');
    }
    for (const [hypertable, ms] of Object.entries(this.settings.sink.chunkIntervals)) {
      if (await setChunkTimeInterval(this.pool, hypertable, ms)) this.logger.info({ hypertable, chunkIntervalMs: ms }, 'chunk interval of future chunks set');
    }
  }

  /**
   * Starts periodic enforcement of the tables weir_retention marks as the platform's (every table on the
   * Apache licence; on the Timescale licence only the sink's own counter_increments_1m, the rest have policies).
   */
  start(): void {
    this.job.start();
  }

  /** Stops it, waiting for a pass in progress. */
  stop(): Promise<void> {
    return this.job.stop();
  }

  /** Drops expired chunks of the tables the platform enforces, once. */
  async enforce(): Promise<RetentionRunResult> {
    const result = await enforceRetention(this.pool, this.logger);
    this.metrics.jobRuns.inc({ job: 'retention', outcome: 'ok' });
    return result;
  }
}
