import { Inject, Injectable } from '@nestjs/common';
import type { ClientBase } from 'pg';
import type { SinkSettings } from '../config';
import { SINK_SETTINGS } from '../common/tokens';
import { StateTagMatcher } from './state-tags';

/** One state series whose intervals must be re-derived from `fromMs` on. */
export interface StateRecompute {
  seriesId: number;
  fromMs: number;
  reasonKey: string | null;
}

/**
 * Machine state intervals, derived in SQL (`weir_recompute_state_intervals`)
 * from the raw state samples: from the earliest source time a write changed,
 * so late and out-of-order samples are placed right and a replay changes
 * nothing. Runs inside the batch's transaction.
 */
@Injectable()
export class StateRepository {
  /** The matcher for the configured state tags. */
  readonly matcher: StateTagMatcher;
  private readonly graceMs: number;
  private readonly codes: string;

  constructor(@Inject(SINK_SETTINGS) settings: SinkSettings) {
    this.matcher = new StateTagMatcher(settings.sink.state);
    this.graceMs = settings.sink.state.reasonGraceMs;
    this.codes = JSON.stringify(settings.sink.state.codes);
  }

  /** Grace between a state change and its reason sample, in ms. */
  get reasonGraceMs(): number {
    return this.graceMs;
  }

  /**
   * Recomputes the intervals of the given state series, in series id order so
   * that concurrent writers take the per-series locks in one order.
   */
  async recompute(client: ClientBase, items: readonly StateRecompute[]): Promise<number> {
    let written = 0;
    for (const item of [...items].sort((a, b) => a.seriesId - b.seriesId)) {
      const { rows } = await client.query<{ n: number }>(
        `SELECT weir_recompute_state_intervals($1, $2, $3, $4, make_interval(secs => $5::double precision / 1000), $6::jsonb) AS n`,
        [item.seriesId, new Date(item.fromMs), item.reasonKey, this.matcher.byBrowsePath, this.graceMs, this.codes],
      );
      written += rows[0]?.n ?? 0;
    }
    return written;
  }

  /**
   * The state series of a source whose reason tag has the machine prefix
   * `prefix`, for recomputing them when their reason tag got samples.
   */
  async ownersOfReason(client: ClientBase, sourceId: string, prefix: string): Promise<{ seriesId: number; reasonKey: string | null }[]> {
    const column = this.matcher.byBrowsePath ? 'browse_path' : 'node_id';
    const { rows } = await client.query<{ id: number; key: string }>(
      `SELECT id, ${column} AS key FROM series WHERE source_id = $1 AND left(${column}, length($2)) = $2`,
      [sourceId, prefix],
    );
    const out: { seriesId: number; reasonKey: string | null }[] = [];
    for (const r of rows) {
      const role = this.matcher.classify(this.matcher.byBrowsePath ? '' : r.key, this.matcher.byBrowsePath ? r.key : null);
      if (role.role === 'state' && this.matcher.ownsReason(r.key, prefix)) out.push({ seriesId: r.id, reasonKey: role.reasonKey });
    }
    return out;
  }
}
