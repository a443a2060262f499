import { Inject, Injectable } from '@nestjs/common';
import { Db } from '../common/db';

/** One asset of the current ISA-95 tree. */
export interface AssetRow {
  asset_id: string;
  parent_id: string | null;
  level: string;
  name: string;
  path: string;
  cost_centre: string | null;
  site_id: string | null;
  area_id: string | null;
  line_id: string | null;
}

const ASSET_COLUMNS = 'asset_id, parent_id, level::text AS level, name, path, cost_centre, site_id, area_id, line_id';

/** Reads the asset tree through the kpi.assets view (current versions, with site/area/line). */
@Injectable()
export class AssetsRepository {
  constructor(@Inject(Db) private readonly db: Db) {}

  /** Assets of the given sites (null: all) whose path matches the regex (null: any), by path. */
  list(sites: string[] | null, pathRegex: string | null, limit: number): Promise<AssetRow[]> {
    return this.db.query<AssetRow>(
      `SELECT ${ASSET_COLUMNS} FROM kpi.assets
        WHERE ($1::text[] IS NULL OR site_id = ANY ($1)) AND ($2::text IS NULL OR path ~ $2)
        ORDER BY path LIMIT $3`,
      [sites, pathRegex, limit],
    );
  }

  /** One asset by id, if it exists now. */
  async get(assetId: string): Promise<AssetRow | undefined> {
    const rows = await this.db.query<AssetRow>(`SELECT ${ASSET_COLUMNS} FROM kpi.assets WHERE asset_id = $1`, [assetId]);
    return rows[0];
  }
}
