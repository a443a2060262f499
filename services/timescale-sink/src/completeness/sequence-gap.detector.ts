import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@weir/observability';
import type { SinkSettings } from '../config';
import { PeriodicJob } from '../common/periodic-job';
import { SinkMetrics } from '../common/sink-metrics';
import { LOGGER, SINK_SETTINGS } from '../common/tokens';
import { CompletenessRepository, type SourceDetection } from './completeness.repository';

/**
 * Finds holes in each source's sequence numbers every
 * `sink.completeness.intervalMs`, declaring one a gap once the data after it
 * has been stored for `sink.completeness.graceMs` without the hole filling.
 */
@Injectable()
export class SequenceGapDetector {
  private readonly job: PeriodicJob;
  private readonly graceMs: number;

  constructor(
    @Inject(CompletenessRepository) private readonly completeness: CompletenessRepository,
    @Inject(SINK_SETTINGS) settings: SinkSettings,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(SinkMetrics) private readonly metrics: SinkMetrics,
  ) {
    this.graceMs = settings.sink.completeness.graceMs;
    this.job = new PeriodicJob({
      name: 'sequence-gaps',
      intervalMs: settings.sink.completeness.intervalMs,
      logger,
      run: async () => {
        await this.detectAll();
      },
      onError: () => {
        this.metrics.jobRuns.inc({ job: 'sequence-gaps', outcome: 'failed' });
        this.metrics.dbErrors.inc({ operation: 'sequence-gaps' });
      },
    });
  }

  /** Starts the periodic detection. */
  start(): void {
    this.job.start();
  }

  /** Stops it, waiting for a pass in progress. */
  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One pass over every source with new data. */
  async detectAll(): Promise<SourceDetection[]> {
    const out: SourceDetection[] = [];
    for (const sourceId of await this.completeness.pendingSources()) {
      const d = await this.completeness.detect(sourceId, this.graceMs);
      if (d.gaps.length > 0) {
        this.metrics.gaps.inc({ detected_by: 'sequence' }, d.gaps.length);
        this.logger.warn({ sourceId, gaps: d.gaps.length, missing: d.gaps.reduce((n, g) => n + g.seqTo - g.seqFrom + 1, 0) }, 'sequence gaps recorded');
      }
      out.push(d);
    }
    this.metrics.jobRuns.inc({ job: 'sequence-gaps', outcome: 'ok' });
    return out;
  }
}
