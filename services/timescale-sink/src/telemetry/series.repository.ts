import { Inject, Injectable } from '@nestjs/common';
import { seriesKey, type TelemetryEnrichedV1 } from '@weir/contracts';
import type { Pool } from 'pg';
import type { SinkSettings } from '../config';
import { sampleKeys, type SampleKeys } from './telemetry-rows';
import { PG_POOL, SINK_SETTINGS } from '../common/tokens';

/** What the sink remembers of one series, to avoid writing unchanged metadata. */
interface CachedSeries {
  id: number;
  browsePath: string | null;
  dataType: string | null;
  assetId: string | null;
  unit: string | null;
  firstSeenMs: number;
  lastSeenMs: number;
}

/** The metadata one batch carries for one series (from its latest sample) and its time span. */
export interface SeenSeries {
  key: string;
  sourceId: string;
  nodeId: string;
  browsePath: string | null;
  dataType: string | null;
  assetId: string | null;
  unit: string | null;
  minMs: number;
  maxMs: number;
}

interface SeriesRow {
  id: number;
  source_id: string;
  node_id: string;
  browse_path: string | null;
  data_type: string | null;
  asset_id: string | null;
  unit: string | null;
  first_seen: Date;
  last_seen: Date;
}

/** The ids of a batch's series (by series key) and what the batch carried for each. */
export interface ResolvedSeries {
  ids: Map<string, number>;
  series: Map<string, SeenSeries>;
}

const SERIES_COLUMNS = 'id, source_id, node_id, browse_path, data_type, asset_id, unit, first_seen, last_seen';

/**
 * The series dictionary: (source_id, node_id) -> small integer id, with the
 * asset, unit, type and browse path the enricher attached. Ids are cached in
 * memory; only pairs not yet known are looked up, and only pairs not in the
 * table are inserted (an `ON CONFLICT` on every batch would burn identity
 * values). Several sink instances may insert the same new pair at once: the
 * loser's insert does nothing and it reads the winner's id.
 */
@Injectable()
export class SeriesRepository {
  private readonly cache = new Map<string, CachedSeries>();
  private readonly lastSeenResolutionMs: number;
  private createdCount = 0;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(SINK_SETTINGS) settings: SinkSettings,
  ) {
    this.lastSeenResolutionMs = settings.sink.lastSeenResolutionMs;
  }

  /** How many series this process created; changes when new series appear (state tag mapping caches key on it). */
  get created(): number {
    return this.createdCount;
  }

  /**
   * Ids of the series of `samples`, creating unknown ones and refreshing
   * changed metadata and `last_seen` (coarsely) of known ones. Runs outside the
   * batch's transaction: a series row without samples yet is harmless, and the
   * retried batch finds it.
   */
  async resolve(samples: readonly TelemetryEnrichedV1[], keys: SampleKeys = sampleKeys(samples)): Promise<ResolvedSeries> {
    const seen = collect(samples, keys);
    const unknown = [...seen.values()].filter((s) => !this.cache.has(s.key));
    if (unknown.length > 0) {
      await this.load(unknown);
      const missing = unknown.filter((s) => !this.cache.has(s.key));
      if (missing.length > 0) {
        await this.insert(missing);
        const raced = missing.filter((s) => !this.cache.has(s.key));
        if (raced.length > 0) await this.load(raced);
      }
    }
    await this.refresh([...seen.values()]);
    const ids = new Map<string, number>();
    for (const key of seen.keys()) {
      const cached = this.cache.get(key);
      if (cached) ids.set(key, cached.id);
    }
    return { ids, series: seen };
  }

  /** The cached id of a series, if this process has seen it. */
  idOf(sourceId: string, nodeId: string): number | undefined {
    return this.cache.get(seriesKey({ sourceId, nodeId }))?.id;
  }

  private remember(row: SeriesRow): void {
    this.cache.set(seriesKey({ sourceId: row.source_id, nodeId: row.node_id }), {
      id: row.id,
      browsePath: row.browse_path,
      dataType: row.data_type,
      assetId: row.asset_id,
      unit: row.unit,
      firstSeenMs: row.first_seen.getTime(),
      lastSeenMs: row.last_seen.getTime(),
    });
  }

  private async load(series: readonly SeenSeries[]): Promise<void> {
    const { rows } = await this.pool.query<SeriesRow>(
      `SELECT ${SERIES_COLUMNS} FROM series s JOIN unnest($1::text[], $2::text[]) AS k(source_id, node_id) USING (source_id, node_id)`,
      [series.map((s) => s.sourceId), series.map((s) => s.nodeId)],
    );
    for (const row of rows) this.remember(row);
  }

  private async insert(series: readonly SeenSeries[]): Promise<void> {
    const { rows } = await this.pool.query<SeriesRow>(
      `INSERT INTO series (source_id, node_id, browse_path, data_type, asset_id, unit, first_seen, last_seen)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[])
       ON CONFLICT (source_id, node_id) DO NOTHING
       RETURNING ${SERIES_COLUMNS}`,
      [
        series.map((s) => s.sourceId),
        series.map((s) => s.nodeId),
        series.map((s) => s.browsePath),
        series.map((s) => s.dataType),
        series.map((s) => s.assetId),
        series.map((s) => s.unit),
        series.map((s) => new Date(s.minMs)),
        series.map((s) => new Date(s.maxMs)),
      ],
    );
    for (const row of rows) this.remember(row);
    this.createdCount += rows.length;
  }

  // Metadata that changed (a new asset mapping, unit, type) is written at once; last_seen only when it
  // moved by more than the resolution, first_seen when older data arrived.
  private async refresh(series: readonly SeenSeries[]): Promise<void> {
    const stale: { id: number; s: SeenSeries; c: CachedSeries }[] = [];
    for (const s of series) {
      const c = this.cache.get(s.key);
      if (!c) continue;
      const changed =
        (s.browsePath !== null && s.browsePath !== c.browsePath) ||
        (s.dataType !== null && s.dataType !== c.dataType) ||
        (s.assetId !== null && s.assetId !== c.assetId) ||
        (s.unit !== null && s.unit !== c.unit) ||
        s.minMs < c.firstSeenMs ||
        s.maxMs > c.lastSeenMs + this.lastSeenResolutionMs;
      if (changed) stale.push({ id: c.id, s, c });
    }
    if (stale.length === 0) return;
    await this.pool.query(
      `UPDATE series t SET browse_path = coalesce(u.browse_path, t.browse_path), data_type = coalesce(u.data_type, t.data_type),
              asset_id = coalesce(u.asset_id, t.asset_id), unit = coalesce(u.unit, t.unit),
              first_seen = least(t.first_seen, u.first_seen), last_seen = greatest(t.last_seen, u.last_seen)
         FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[])
              AS u(id, browse_path, data_type, asset_id, unit, first_seen, last_seen)
        WHERE t.id = u.id`,
      [
        stale.map((x) => x.id),
        stale.map((x) => x.s.browsePath),
        stale.map((x) => x.s.dataType),
        stale.map((x) => x.s.assetId),
        stale.map((x) => x.s.unit),
        stale.map((x) => new Date(x.s.minMs)),
        stale.map((x) => new Date(x.s.maxMs)),
      ],
    );
    for (const { s, c } of stale) {
      c.browsePath = s.browsePath ?? c.browsePath;
      c.dataType = s.dataType ?? c.dataType;
      c.assetId = s.assetId ?? c.assetId;
      c.unit = s.unit ?? c.unit;
      c.firstSeenMs = Math.min(c.firstSeenMs, s.minMs);
      c.lastSeenMs = Math.max(c.lastSeenMs, s.maxMs);
    }
  }
}

function collect(samples: readonly TelemetryEnrichedV1[], { keys, timesMs }: SampleKeys): Map<string, SeenSeries> {
  const seen = new Map<string, SeenSeries>();
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const key = keys[i]!;
    const ms = timesMs[i]!;
    const entry = seen.get(key);
    if (!entry) {
      seen.set(key, {
        key,
        sourceId: s.sourceId,
        nodeId: s.nodeId,
        browsePath: s.browsePath ?? null,
        dataType: s.dataType ?? null,
        assetId: s.context.asset?.id ?? null,
        unit: s.context.unit,
        minMs: ms,
        maxMs: ms,
      });
      continue;
    }
    if (ms < entry.minMs) entry.minMs = ms;
    if (ms >= entry.maxMs) {
      // The latest sample's context is the current one.
      entry.maxMs = ms;
      entry.browsePath = s.browsePath ?? entry.browsePath;
      entry.dataType = s.dataType ?? entry.dataType;
      entry.assetId = s.context.asset?.id ?? entry.assetId;
      entry.unit = s.context.unit ?? entry.unit;
    }
  }
  return seen;
}
