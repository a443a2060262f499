import { Inject, Injectable } from '@nestjs/common';
import type { TelemetryEnrichedV1 } from '@weir/contracts';
import type { ClientBase, Pool } from 'pg';
import type { SinkSettings } from '../config';
import { isUniqueViolation, withTransaction } from '../common/db';
import { SinkMetrics } from '../common/sink-metrics';
import { PG_POOL, SINK_SETTINGS } from '../common/tokens';
import { CompletenessRepository } from '../completeness/completeness.repository';
import { RollupRepository } from '../rollups/rollup.repository';
import { StateRepository, type StateRecompute } from '../state/state.repository';
import type { StateRole } from '../state/state-tags';
import { SeriesRepository, type ResolvedSeries } from './series.repository';
import { buildTelemetryBatch, sampleKeys } from './telemetry-rows';
import { TelemetryRepository, type TableWrite, type WritePath } from './telemetry.repository';

/** What writing one telemetry batch did, per table. */
export interface TelemetryWrite {
  telemetry: TableWrite;
  telemetry_other: TableWrite;
  /** State intervals rewritten. */
  stateIntervals: number;
}

interface ReasonTouch {
  sourceId: string;
  prefix: string;
  minMs: number;
}

// Which state series own a reason tag; refreshed when series appear or after a minute (another
// instance may have created the state series).
const OWNER_TTL_MS = 60_000;

/**
 * The telemetry write path: resolve series ids, build rows, and in ONE
 * transaction write the samples (COPY, idempotent on series/time/seq), log the
 * rollup buckets and sequence spans they touched, and recompute the state
 * intervals of state tags among them. The caller (the consumer) commits the
 * Kafka offsets only after this resolved, i.e. after the database commit.
 */
@Injectable()
export class TelemetryService {
  private readonly roles = new Map<string, StateRole>();
  private readonly owners = new Map<string, { version: number; at: number; owners: { seriesId: number; reasonKey: string | null }[] }>();
  private readonly logSequences: boolean;
  private replaying = false;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(SINK_SETTINGS) settings: SinkSettings,
    @Inject(SeriesRepository) private readonly series: SeriesRepository,
    @Inject(TelemetryRepository) private readonly samples: TelemetryRepository,
    @Inject(RollupRepository) private readonly rollups: RollupRepository,
    @Inject(CompletenessRepository) private readonly completeness: CompletenessRepository,
    @Inject(StateRepository) private readonly state: StateRepository,
    @Inject(SinkMetrics) private readonly metrics: SinkMetrics,
  ) {
    this.logSequences = settings.sink.completeness.sequenceGaps;
  }

  /** Writes one batch of decoded samples; resolves after the database commit. */
  async write(batchSamples: readonly TelemetryEnrichedV1[]): Promise<TelemetryWrite> {
    const keys = sampleKeys(batchSamples);
    const resolved = await this.series.resolve(batchSamples, keys);
    const batch = buildTelemetryBatch(batchSamples, keys, resolved.ids);
    const { states, reasons } = this.stateTouches(resolved);
    const attempt = (path: WritePath): Promise<TelemetryWrite> =>
      withTransaction(this.pool, async (client) => {
        const telemetry = await this.samples.write(client, 'telemetry', batch.numeric, path);
        const other = await this.samples.write(client, 'telemetry_other', batch.other, path);
        await this.rollups.invalidate(client, batch.rollupRanges);
        if (this.logSequences) await this.completeness.logSequences(client, batch.sequences);
        let stateIntervals = 0;
        if (states.size > 0 || reasons.size > 0) stateIntervals = await this.recomputeStates(client, states, reasons);
        return { telemetry, telemetry_other: other, stateIntervals };
      });
    // Almost every batch is new data: COPY straight in. A stored row (a replay after a crash, a
    // redelivery, a sample twice in the batch) makes the COPY fail on the unique index; the
    // transaction is rolled back and the batch written again through the upsert, which skips
    // stored rows. After a conflict the upsert stays in use, so a long replay costs no double
    // work, until a batch is entirely new again.
    if (!this.replaying) {
      try {
        return await attempt('copy');
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        this.replaying = true;
        this.metrics.upsertFallbacks.inc();
      }
    }
    const result = await attempt('upsert');
    if (result.telemetry.inserted === result.telemetry.offered && result.telemetry_other.inserted === result.telemetry_other.offered) this.replaying = false;
    return result;
  }

  // Per series of the batch, not per sample: the batch's earliest time of each state or reason tag.
  private stateTouches(resolved: ResolvedSeries): { states: Map<number, StateRecompute>; reasons: Map<string, ReasonTouch> } {
    const states = new Map<number, StateRecompute>();
    const reasons = new Map<string, ReasonTouch>();
    for (const [key, seen] of resolved.series) {
      let role = this.roles.get(key);
      if (!role) {
        role = this.state.matcher.classify(seen.nodeId, seen.browsePath);
        this.roles.set(key, role);
      }
      if (role.role === 'state') {
        const id = resolved.ids.get(key)!;
        states.set(id, { seriesId: id, fromMs: seen.minMs, reasonKey: role.reasonKey });
      } else if (role.role === 'reason') {
        const rkey = `${seen.sourceId}|${role.prefix}`;
        const prev = reasons.get(rkey);
        if (!prev || seen.minMs < prev.minMs) reasons.set(rkey, { sourceId: seen.sourceId, prefix: role.prefix, minMs: seen.minMs });
      }
    }
    return { states, reasons };
  }

  private async recomputeStates(client: ClientBase, states: Map<number, StateRecompute>, reasons: Map<string, ReasonTouch>): Promise<number> {
    for (const [key, touch] of reasons) {
      let cached = this.owners.get(key);
      if (!cached || cached.version !== this.series.created || Date.now() - cached.at > OWNER_TTL_MS) {
        cached = { version: this.series.created, at: Date.now(), owners: await this.state.ownersOfReason(client, touch.sourceId, touch.prefix) };
        this.owners.set(key, cached);
      }
      // A reason sample changes the intervals whose state change lies within the grace before it.
      const fromMs = touch.minMs - this.state.reasonGraceMs;
      for (const owner of cached.owners) {
        const prev = states.get(owner.seriesId);
        if (!prev || fromMs < prev.fromMs) states.set(owner.seriesId, { seriesId: owner.seriesId, fromMs, reasonKey: owner.reasonKey });
      }
    }
    return this.state.recompute(client, [...states.values()]);
  }
}
