import { Inject, Injectable } from '@nestjs/common';
import type { ClientBase, Pool } from 'pg';
import { withTransaction } from '../common/db';
import { PG_POOL } from '../common/tokens';
import type { SequenceSpan } from '../telemetry/telemetry-rows';
import { fillGap, mergeWindows, walkHoles, type SeqPoint, type SequenceGap, type SequenceHole, type Watermark } from './sequence-gaps';

/** A gap a connector reported (ot.events.v1, kind `gap`). */
export interface ReportedGap {
  sourceId: string;
  /** The node concerned; null for the whole source. */
  nodeId: string | null;
  fromTime: string;
  toTime: string;
  reason: string;
  eventId: string;
}

/** What one detection pass over one source found. */
export interface SourceDetection {
  sourceId: string;
  gaps: SequenceGap[];
  /** Recorded gaps that late samples shrank or removed. */
  filled: number;
  watermark: Watermark | null;
}

interface LogRow {
  id: string;
  min_seq: string;
  max_seq: string;
  min_time: Date;
  max_time: Date;
  logged_ms: number;
}

// Lock namespace of the detector (per source, second key from hashtext).
const LOCK_NAMESPACE = 1466271603;

// Stored samples of one source in some time windows, both sample tables.
const SOURCE_SAMPLES = `
  SELECT t.seq, t.time FROM telemetry t JOIN unnest($2::timestamptz[], $3::timestamptz[]) AS w(f, u) ON t.time >= w.f AND t.time <= w.u
   WHERE t.series_id IN (SELECT id FROM series WHERE source_id = $1) AND t.seq > $4 AND t.seq <= $5
  UNION ALL
  SELECT o.seq, o.time FROM telemetry_other o JOIN unnest($2::timestamptz[], $3::timestamptz[]) AS w(f, u) ON o.time >= w.f AND o.time <= w.u
   WHERE o.series_id IN (SELECT id FROM series WHERE source_id = $1) AND o.seq > $4 AND o.seq <= $5`;

/**
 * Data completeness: gaps reported by connectors, and holes in each source's
 * sequence numbers found by the sink itself.
 *
 * Sequence numbers are per source, and one source's samples are spread over
 * partitions (keyed by series) and possibly over sink instances, so no single
 * consumer sees a source's whole sequence. Each written batch therefore logs,
 * per source, the span of sequence numbers and source times it wrote
 * (`logSequences`, in the batch's transaction), and `detect` later looks for
 * holes in the stored rows of those time windows above the source's watermark.
 */
@Injectable()
export class CompletenessRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Logs the sequence spans a batch wrote, inside the writer's transaction. */
  async logSequences(client: ClientBase, spans: readonly SequenceSpan[]): Promise<void> {
    if (spans.length === 0) return;
    await client.query(
      `INSERT INTO weir_seq_log (source_id, min_seq, max_seq, min_time, max_time)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::timestamptz[], $5::timestamptz[])`,
      [spans.map((s) => s.sourceId), spans.map((s) => s.minSeq), spans.map((s) => s.maxSeq), spans.map((s) => new Date(s.minTimeMs)), spans.map((s) => new Date(s.maxTimeMs))],
    );
  }

  /** Records gaps reported by connectors, idempotently (one row per source and event id). */
  async insertReportedGaps(client: ClientBase, gaps: readonly ReportedGap[]): Promise<number> {
    if (gaps.length === 0) return 0;
    const { rowCount } = await client.query(
      `INSERT INTO data_gaps (source_id, node_id, from_time, to_time, detected_by, reason, event_id)
       SELECT g.source_id, g.node_id, least(g.f, g.t), greatest(g.f, g.t), 'connector', g.reason, g.event_id
         FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::text[]) AS g(source_id, node_id, f, t, reason, event_id)
       ON CONFLICT (source_id, event_id) WHERE detected_by = 'connector' DO NOTHING`,
      [gaps.map((g) => g.sourceId), gaps.map((g) => g.nodeId), gaps.map((g) => g.fromTime), gaps.map((g) => g.toTime), gaps.map((g) => g.reason), gaps.map((g) => g.eventId)],
    );
    return rowCount ?? 0;
  }

  /** Sources with logged spans waiting to be checked. */
  async pendingSources(): Promise<string[]> {
    const { rows } = await this.pool.query<{ source_id: string }>('SELECT DISTINCT source_id FROM weir_seq_log ORDER BY 1');
    return rows.map((r) => r.source_id);
  }

  /** Checks one source for sequence holes older than `graceMs`, in one transaction. */
  async detect(sourceId: string, graceMs: number): Promise<SourceDetection> {
    return withTransaction(this.pool, async (client) => {
      await client.query(`SET LOCAL statement_timeout = '10min'`);
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_NAMESPACE, sourceId]);
      const { rows: logs } = await client.query<LogRow & { now_ms: number }>(
        `SELECT id, min_seq, max_seq, min_time, max_time, extract(epoch FROM logged_at) * 1000 AS logged_ms, extract(epoch FROM clock_timestamp()) * 1000 AS now_ms
           FROM weir_seq_log WHERE source_id = $1 ORDER BY id`,
        [sourceId],
      );
      if (logs.length === 0) return { sourceId, gaps: [], filled: 0, watermark: null };
      const nowMs = Number(logs[0]!.now_ms);
      const { rows: marks } = await client.query<{ through_seq: string; through_ms: number | null }>(
        `SELECT through_seq, extract(epoch FROM through_time) * 1000 AS through_ms FROM weir_seq_watermark WHERE source_id = $1`,
        [sourceId],
      );
      // First sight of a source: what came before the first sequence number seen is not ours to judge.
      const from: Watermark = marks[0]
        ? { seq: Number(marks[0].through_seq), timeMs: marks[0].through_ms === null ? null : Number(marks[0].through_ms) }
        : { seq: Math.min(...logs.map((l) => Number(l.min_seq))) - 1, timeMs: null };

      const filled = await this.fillLateData(client, sourceId, logs.filter((l) => Number(l.min_seq) <= from.seq), from.seq);

      const pending = logs.filter((l) => Number(l.max_seq) > from.seq);
      let walk = { gaps: [] as SequenceGap[], watermark: from };
      if (pending.length > 0) {
        const { holes, top } = await this.holes(client, sourceId, pending, from.seq);
        const storedAgeMs = (seq: number): number => {
          // The newest log row covering `seq`: a row written earlier may span it without holding it.
          let logged = -Infinity;
          for (const l of pending) if (Number(l.min_seq) <= seq && seq <= Number(l.max_seq) && l.logged_ms > logged) logged = Number(l.logged_ms);
          return logged === -Infinity ? 0 : nowMs - logged;
        };
        walk = walkHoles(from, holes, top, graceMs, storedAgeMs);
      }
      await this.insertSequenceGaps(client, sourceId, walk.gaps);
      await client.query('DELETE FROM weir_seq_log WHERE source_id = $1 AND max_seq <= $2 AND id <= $3', [sourceId, walk.watermark.seq, logs[logs.length - 1]!.id]);
      await client.query(
        `INSERT INTO weir_seq_watermark (source_id, through_seq, through_time, updated_at) VALUES ($1, $2, to_timestamp($3::double precision / 1000), now())
         ON CONFLICT (source_id) DO UPDATE SET through_seq = excluded.through_seq, through_time = coalesce(excluded.through_time, weir_seq_watermark.through_time), updated_at = now()`,
        [sourceId, walk.watermark.seq, walk.watermark.timeMs],
      );
      return { sourceId, gaps: walk.gaps, filled, watermark: walk.watermark };
    });
  }

  // Only the samples either side of a hole (and the highest) leave the database: a busy source writes
  // far more samples per pass than should cross the wire.
  private async holes(client: ClientBase, sourceId: string, pending: readonly LogRow[], aboveSeq: number): Promise<{ holes: SequenceHole[]; top: SeqPoint | null }> {
    const windows = mergeWindows(pending.map((l) => ({ fromMs: l.min_time.getTime(), toMs: l.max_time.getTime() })));
    const maxSeq = Math.max(...pending.map((l) => Number(l.max_seq)));
    const { rows } = await client.query<{ prev_seq: string | null; prev_ms: number | null; seq: string; ms: number; is_top: boolean; is_hole: boolean }>(
      `WITH s AS (${SOURCE_SAMPLES}),
       o AS (SELECT seq, time, lag(seq) OVER (ORDER BY seq) AS prev_seq, lag(time) OVER (ORDER BY seq) AS prev_time, max(seq) OVER () AS top FROM s)
       SELECT prev_seq, extract(epoch FROM prev_time) * 1000 AS prev_ms, seq, extract(epoch FROM time) * 1000 AS ms,
              seq = top AS is_top, seq > coalesce(prev_seq, $4) + 1 AS is_hole
         FROM o WHERE seq > coalesce(prev_seq, $4) + 1 OR seq = top
        ORDER BY seq`,
      [sourceId, windows.map((w) => new Date(w.fromMs)), windows.map((w) => new Date(w.toMs)), aboveSeq, maxSeq],
    );
    const holes: SequenceHole[] = [];
    let top: SeqPoint | null = null;
    for (const r of rows) {
      const before = { seq: Number(r.seq), timeMs: Number(r.ms) };
      if (r.is_hole) holes.push({ after: r.prev_seq === null ? null : { seq: Number(r.prev_seq), timeMs: Number(r.prev_ms) }, before });
      if (r.is_top) top = before;
    }
    return { holes, top };
  }

  private async insertSequenceGaps(client: ClientBase, sourceId: string, gaps: readonly SequenceGap[]): Promise<void> {
    if (gaps.length === 0) return;
    await client.query(
      `INSERT INTO data_gaps (source_id, node_id, from_time, to_time, detected_by, reason, seq_from, seq_to)
       SELECT $1, NULL, to_timestamp(least(f, t) / 1000), to_timestamp(greatest(f, t) / 1000), 'sequence',
              'sequence numbers ' || a || '..' || b || ' missing', a, b
         FROM unnest($2::double precision[], $3::double precision[], $4::bigint[], $5::bigint[]) AS g(f, t, a, b)
       ON CONFLICT (source_id, seq_from) WHERE detected_by = 'sequence' DO NOTHING`,
      [sourceId, gaps.map((g) => g.fromTimeMs), gaps.map((g) => g.toTimeMs), gaps.map((g) => g.seqFrom), gaps.map((g) => g.seqTo)],
    );
  }

  // Samples at or below the watermark arrived after their hole was declared a gap (or are replays):
  // shrink the recorded gaps they fall into.
  private async fillLateData(client: ClientBase, sourceId: string, late: readonly LogRow[], watermark: number): Promise<number> {
    if (late.length === 0) return 0;
    const lo = Math.min(...late.map((l) => Number(l.min_seq)));
    const hi = Math.min(watermark, Math.max(...late.map((l) => Number(l.max_seq))));
    const { rows: gaps } = await client.query<{ id: string; seq_from: string; seq_to: string; from_ms: number; to_ms: number }>(
      `SELECT id, seq_from, seq_to, extract(epoch FROM from_time) * 1000 AS from_ms, extract(epoch FROM to_time) * 1000 AS to_ms
         FROM data_gaps WHERE source_id = $1 AND detected_by = 'sequence' AND seq_from <= $3 AND seq_to >= $2`,
      [sourceId, lo, hi],
    );
    let changed = 0;
    const windows = mergeWindows(late.map((l) => ({ fromMs: l.min_time.getTime(), toMs: l.max_time.getTime() })));
    for (const g of gaps) {
      const gap: SequenceGap = { seqFrom: Number(g.seq_from), seqTo: Number(g.seq_to), fromTimeMs: Number(g.from_ms), toTimeMs: Number(g.to_ms) };
      const { rows } = await client.query<{ seq: string; ms: number }>(
        `SELECT seq, extract(epoch FROM time) * 1000 AS ms FROM (${SOURCE_SAMPLES}) s ORDER BY seq`,
        [sourceId, windows.map((w) => new Date(w.fromMs)), windows.map((w) => new Date(w.toMs)), gap.seqFrom - 1, gap.seqTo],
      );
      if (rows.length === 0) continue;
      const rest = fillGap(gap, rows.map((r) => ({ seq: Number(r.seq), timeMs: Number(r.ms) })));
      await client.query('DELETE FROM data_gaps WHERE id = $1', [g.id]);
      await this.insertSequenceGaps(client, sourceId, rest);
      changed++;
    }
    return changed;
  }
}
