import type { Logger } from '@weir/observability';
import { TimescaleError } from '../errors';
import { quoteIdent } from '../identifiers';
import type { Queryable } from '../pool';
import type { TimescaleLicense } from '../timescale-detection';

/** Who drops a hypertable's old chunks: TimescaleDB's retention policy, or the platform (Apache-licensed builds). */
export type RetentionEnforcedBy = 'timescaledb' | 'weir';

/** The retention of one hypertable, as `weir_retention` holds it. */
export interface RetentionRule {
  hypertable: string;
  /** Chunks whose data is all older than this many milliseconds are dropped. */
  dropAfterMs: number;
  enforcedBy: RetentionEnforcedBy;
}

/** What one `enforceRetention` pass dropped. */
export interface RetentionRunResult {
  /** Per hypertable enforced by the platform: the chunks dropped (schema-qualified names). */
  dropped: Record<string, string[]>;
}

/** Reads every row of `weir_retention`. */
export async function readRetentionRules(db: Queryable): Promise<RetentionRule[]> {
  const { rows } = await db.query<{ hypertable: string; drop_after_ms: string; enforced_by: RetentionEnforcedBy }>(
    `SELECT hypertable, (extract(epoch FROM drop_after) * 1000)::bigint AS drop_after_ms, enforced_by FROM weir_retention ORDER BY hypertable`,
  );
  return rows.map((r) => ({ hypertable: r.hypertable, dropAfterMs: Number(r.drop_after_ms), enforcedBy: r.enforced_by }));
}

/**
 * Drops the chunks that are past their retention, for every hypertable the
 * platform enforces (`enforced_by = 'weir'`, the Apache-licensed builds, where
 * TimescaleDB has no retention policies). `drop_chunks` removes whole chunks
 * whose time range ends before `now() - drop_after`, so a chunk that still holds
 * younger rows stays. Safe to run from several processes: drop_chunks locks.
 */
export async function enforceRetention(db: Queryable, logger?: Logger): Promise<RetentionRunResult> {
  const rules = (await readRetentionRules(db)).filter((r) => r.enforcedBy === 'weir');
  const dropped: Record<string, string[]> = {};
  for (const rule of rules) {
    const { rows } = await db.query<{ chunk: string }>(
      `SELECT drop_chunks($1::regclass, older_than => now() - make_interval(secs => $2::double precision / 1000)) AS chunk`,
      [rule.hypertable, rule.dropAfterMs],
    );
    dropped[rule.hypertable] = rows.map((r) => r.chunk);
    if (rows.length > 0) logger?.info({ hypertable: rule.hypertable, chunks: rows.length, dropAfterMs: rule.dropAfterMs }, 'dropped chunks past retention');
  }
  return { dropped };
}

/**
 * Sets how long a hypertable's data is kept. Updates `weir_retention`; on the
 * Timescale licence also replaces the hypertable's retention policy, so the
 * table and TimescaleDB's job never disagree. Refuses a table without a row.
 */
export async function setRetention(db: Queryable, hypertable: string, dropAfterMs: number, license: TimescaleLicense): Promise<void> {
  if (!Number.isFinite(dropAfterMs) || dropAfterMs <= 0) throw new TimescaleError('RETENTION.BAD_SETTING', `retention of ${hypertable} must be a positive duration, got ${dropAfterMs} ms`);
  const interval = `make_interval(secs => $2::double precision / 1000)`;
  const { rowCount } = await db.query(`UPDATE weir_retention SET drop_after = ${interval}, updated_at = now() WHERE hypertable = $1 AND drop_after <> ${interval}`, [hypertable, dropAfterMs]);
  const { rows } = await db.query<{ exists: boolean }>(`SELECT EXISTS (SELECT 1 FROM weir_retention WHERE hypertable = $1) AS exists`, [hypertable]);
  if (!rows[0]!.exists) throw new TimescaleError('RETENTION.UNKNOWN_HYPERTABLE', `${hypertable} has no row in weir_retention; known tables get one from their migration`);
  const { rows: by } = await db.query<{ enforced_by: string }>(`SELECT enforced_by FROM weir_retention WHERE hypertable = $1`, [hypertable]);
  // Tables the platform itself enforces (every one on Apache, the sink's own rollups on both) get no policy.
  if (license === 'timescale' && (rowCount ?? 0) > 0 && by[0]?.enforced_by === 'timescaledb') {
    await db.query(`SELECT remove_retention_policy($1::regclass, if_exists => true)`, [hypertable]);
    await db.query(`SELECT add_retention_policy($1::regclass, drop_after => ${interval})`, [hypertable, dropAfterMs]);
  }
}

/**
 * Sets the time span of a hypertable's future chunks (`set_chunk_time_interval`);
 * existing chunks keep theirs. Returns whether the interval changed.
 */
export async function setChunkTimeInterval(db: Queryable, hypertable: string, intervalMs: number): Promise<boolean> {
  if (!Number.isFinite(intervalMs) || intervalMs < 60_000) throw new TimescaleError('RETENTION.BAD_SETTING', `chunk interval of ${hypertable} must be at least 1 minute, got ${intervalMs} ms`);
  const { rows } = await db.query<{ current_ms: string | null }>(
    `SELECT (extract(epoch FROM time_interval) * 1000)::bigint AS current_ms FROM timescaledb_information.dimensions
      WHERE hypertable_schema = 'public' AND hypertable_name = $1 AND dimension_number = 1`,
    [hypertable],
  );
  if (rows.length === 0) throw new TimescaleError('RETENTION.UNKNOWN_HYPERTABLE', `${quoteIdent(hypertable)} is not a hypertable in the public schema`);
  if (Number(rows[0]!.current_ms) === Math.round(intervalMs)) return false;
  await db.query(`SELECT set_chunk_time_interval($1::regclass, make_interval(secs => $2::double precision / 1000))`, [hypertable, intervalMs]);
  return true;
}
