import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { canReadSite, type Principal } from '../auth/principal';
import { SeriesRepository, type SeriesScopeRow } from './series.repository';

/** Resolves the series a request names: 404 for unknown ids, 403 for series outside the caller's sites. */
@Injectable()
export class SeriesScope {
  constructor(@Inject(SeriesRepository) private readonly series: SeriesRepository) {}

  /** The series, in the order asked. */
  async resolve(p: Principal, ids: number[]): Promise<SeriesScopeRow[]> {
    const rows = await this.series.byIds(ids);
    const found = new Map(rows.map((r) => [r.id, r]));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0) throw new ApiError('ANALYTICS.NOT_FOUND', `unknown series id(s): ${missing.join(', ')}`);
    const forbidden = rows.filter((r) => !canReadSite(p, r.site_id));
    if (forbidden.length > 0) throw new ApiError('ANALYTICS.SITE_FORBIDDEN', `series ${forbidden.map((r) => r.id).join(', ')} belong to a site this caller may not read`);
    return ids.map((id) => found.get(id)!);
  }
}
