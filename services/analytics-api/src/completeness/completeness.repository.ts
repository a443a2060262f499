import { Inject, Injectable } from '@nestjs/common';
import { Db } from '../common/db';

/** One covered or missing interval of a series (kpi.completeness). */
export interface CompletenessRow {
  series_id: number;
  status: 'covered' | 'missing';
  from_time: Date;
  to_time: Date;
  detected_by: string | null;
  reason: string | null;
}

/** Reads completeness through kpi.completeness. */
@Injectable()
export class CompletenessRepository {
  constructor(@Inject(Db) private readonly db: Db) {}

  /** Intervals of the given series in [from, to), by series and time. */
  intervals(seriesIds: number[], from: Date, to: Date): Promise<CompletenessRow[]> {
    return this.db.query<CompletenessRow>(
      `SELECT c.series_id, c.status, c.from_time, c.to_time, c.detected_by, c.reason
         FROM kpi.completeness($2, $3) c WHERE c.series_id = ANY ($1::int[]) AND c.to_time > c.from_time
        ORDER BY c.series_id, c.from_time, c.status`,
      [seriesIds, from, to],
    );
  }

  /** Ids of the series of an asset's subtree within the sites (null: all). */
  async seriesOfSubtree(sites: string[] | null, assetId: string, limit: number): Promise<number[]> {
    const rows = await this.db.query<{ id: number }>(
      `SELECT s.id FROM series s JOIN kpi.assets a ON a.asset_id = s.asset_id
        WHERE ($1::text[] IS NULL OR a.site_id = ANY ($1))
          AND (a.asset_id = $2 OR a.path LIKE (SELECT replace(replace(replace(p.path, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '/%' FROM kpi.assets p WHERE p.asset_id = $2))
        ORDER BY s.id LIMIT $3`,
      [sites, assetId, limit],
    );
    return rows.map((r) => r.id);
  }
}
