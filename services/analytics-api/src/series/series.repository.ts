import { Inject, Injectable } from '@nestjs/common';
import { Db } from '../common/db';

/** One series with where it belongs and its quality counts over a window. */
export interface SeriesRow {
  id: number;
  source_id: string;
  node_id: string;
  browse_path: string | null;
  data_type: string | null;
  unit: string | null;
  asset_id: string | null;
  asset_path: string | null;
  site_id: string | null;
  first_seen: Date;
  last_seen: Date;
  good: string | null;
  uncertain: string | null;
  bad: string | null;
}

/** A series' identity as the scope check needs it. */
export interface SeriesScopeRow {
  id: number;
  unit: string | null;
  site_id: string | null;
  asset_id: string | null;
  browse_path: string | null;
  node_id: string;
}

/** Reads the series dictionary. Quality counts come from the 1-minute rollups (materialised, so they lag live data by about a minute). */
@Injectable()
export class SeriesRepository {
  constructor(@Inject(Db) private readonly db: Db) {}

  /** Series of the given sites (null: all, including series without an asset) matching the filters, by id after `afterId`. */
  search(f: { sites: string[] | null; pathRegex: string | null; text: string | null; assetId: string | null; from: Date; to: Date; afterId: number; limit: number }): Promise<SeriesRow[]> {
    return this.db.query<SeriesRow>(
      `SELECT s.id, s.source_id, s.node_id, s.browse_path, s.data_type, s.unit, s.asset_id, a.path AS asset_path, a.site_id, s.first_seen, s.last_seen,
              q.good, q.uncertain, q.bad
         FROM series s
         LEFT JOIN kpi.assets a ON a.asset_id = s.asset_id
         LEFT JOIN LATERAL (
           SELECT sum(r.count) AS good, sum(r.uncertain_count) AS uncertain, sum(r.bad_count) AS bad
             FROM telemetry_1m r WHERE r.series_id = s.id AND r.bucket >= $5 AND r.bucket < $6
         ) q ON true
        WHERE ($1::text[] IS NULL OR a.site_id = ANY ($1))
          AND ($2::text IS NULL OR coalesce(a.path, '') || '/' || coalesce(s.browse_path, s.node_id) ~ $2)
          AND ($3::text IS NULL OR strpos(lower(s.node_id), lower($3)) > 0 OR strpos(lower(coalesce(s.browse_path, '')), lower($3)) > 0)
          AND ($4::text IS NULL OR s.asset_id = $4 OR a.path LIKE (SELECT replace(replace(replace(p.path, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '/%' FROM kpi.assets p WHERE p.asset_id = $4))
          AND s.id > $7
        ORDER BY s.id LIMIT $8`,
      [f.sites, f.pathRegex, f.text, f.assetId, f.from, f.to, f.afterId, f.limit],
    );
  }

  /** The series with these ids that exist. */
  byIds(ids: number[]): Promise<SeriesScopeRow[]> {
    return this.db.query<SeriesScopeRow>(
      `SELECT s.id, s.unit, a.site_id, s.asset_id, s.browse_path, s.node_id FROM series s LEFT JOIN kpi.assets a ON a.asset_id = s.asset_id WHERE s.id = ANY ($1::int[]) ORDER BY s.id`,
      [ids],
    );
  }
}
