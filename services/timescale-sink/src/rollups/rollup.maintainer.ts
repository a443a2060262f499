import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@weir/observability';
import type { SinkSettings } from '../config';
import { PeriodicJob } from '../common/periodic-job';
import { SinkMetrics } from '../common/sink-metrics';
import { LOGGER, SINK_SETTINGS } from '../common/tokens';
import { RollupRepository, type RollupRefresh } from './rollup.repository';

/**
 * Keeps counter_increments_1m (both licences) and telemetry_1m / telemetry_1h
 * (Apache licence) up to date: every
 * `sink.rollups.intervalMs` it drains the invalidation log (in slices, until
 * only unsettled buckets are left). Several sink instances may run it; the
 * repository serialises them with an advisory lock.
 */
@Injectable()
export class RollupMaintainer {
  private readonly job: PeriodicJob;
  private readonly settleMs: number;

  constructor(
    @Inject(RollupRepository) private readonly rollups: RollupRepository,
    @Inject(SINK_SETTINGS) settings: SinkSettings,
    @Inject(LOGGER) logger: Logger,
    @Inject(SinkMetrics) private readonly metrics: SinkMetrics,
  ) {
    this.settleMs = settings.sink.rollups.settleMs;
    this.job = new PeriodicJob({
      name: 'rollups',
      intervalMs: settings.sink.rollups.intervalMs,
      logger,
      run: async () => {
        await this.drain();
      },
      onError: () => {
        this.metrics.jobRuns.inc({ job: 'rollups', outcome: 'failed' });
        this.metrics.dbErrors.inc({ operation: 'rollups' });
      },
    });
  }

  /** Starts the periodic refresh. */
  start(): void {
    this.job.start();
  }

  /** Stops it, waiting for a pass in progress. */
  stop(): Promise<void> {
    return this.job.stop();
  }

  /** Refreshes until the log holds nothing that has settled; returns the totals. */
  async drain(): Promise<RollupRefresh> {
    const total: RollupRefresh = { invalidations: 0, minuteBuckets: 0, hourBuckets: 0, counterBuckets: 0, deferred: 0 };
    for (;;) {
      const pass = await this.rollups.refresh(this.settleMs);
      total.invalidations += pass.invalidations;
      total.minuteBuckets += pass.minuteBuckets;
      total.hourBuckets += pass.hourBuckets;
      total.counterBuckets += pass.counterBuckets;
      total.deferred = pass.deferred;
      // Stop when nothing was taken, or everything taken was put back (not settled yet).
      if (pass.invalidations === 0 || pass.deferred >= pass.invalidations) break;
    }
    this.metrics.jobRuns.inc({ job: 'rollups', outcome: 'ok' });
    return total;
  }
}
