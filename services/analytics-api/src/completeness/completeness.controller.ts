import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AssetScope } from '../assets/asset-scope.service';
import { Caller, Requires } from '../auth/auth.guard';
import { siteFilter, type Principal } from '../auth/principal';
import { ApiError } from '../common/api-error';
import { assetId, checkRange, isList, seriesIds, timeRange } from '../common/query-fields';
import { SETTINGS } from '../common/tokens';
import { parseRequest } from '../common/validation';
import type { AnalyticsSettings } from '../config';
import { SeriesScope } from '../series/series-scope.service';
import { CompletenessRepository } from './completeness.repository';

@ApiTags('completeness')
@ApiSecurity('bearer')
@ApiSecurity('apiKey')
@Controller('v1/completeness')
export class CompletenessController {
  private readonly query;

  constructor(
    @Inject(SETTINGS) private readonly settings: AnalyticsSettings,
    @Inject(CompletenessRepository) private readonly repo: CompletenessRepository,
    @Inject(SeriesScope) private readonly series: SeriesScope,
    @Inject(AssetScope) private readonly assets: AssetScope,
  ) {
    const limits = settings.api.limits;
    this.query = z
      .strictObject({ ...timeRange, series: seriesIds.optional(), asset: assetId.optional() })
      .superRefine((v, ctx) => {
        checkRange(v, ctx, limits.maxRangeMs);
        if ((v.series === undefined) === (v.asset === undefined)) ctx.addIssue({ code: 'custom', path: ['series'], message: 'give exactly one of series or asset' });
        if (isList(v.series) && v.series.length > limits.maxSeries) ctx.addIssue({ code: 'custom', path: ['series'], message: `at most ${limits.maxSeries} series per query` });
      });
  }

  @Get()
  @Requires('completeness:read')
  @ApiOperation({ summary: 'Covered and missing intervals per series in from..to, with covered/missing seconds and the covered share (reads kpi.completeness)' })
  @ApiQuery({ name: 'from' })
  @ApiQuery({ name: 'to' })
  @ApiQuery({ name: 'series', required: false, description: 'Comma-separated series ids (or asset)' })
  @ApiQuery({ name: 'asset', required: false, description: 'Every series of this asset subtree (or series)' })
  async completeness(@Caller() caller: Principal, @Query() query: unknown) {
    const q = parseRequest(this.query, query);
    const limit = this.settings.api.limits.maxSeries;
    let ids: number[];
    if (q.series !== undefined) ids = (await this.series.resolve(caller, q.series)).map((s) => s.id);
    else {
      await this.assets.resolve(caller, q.asset!);
      ids = await this.repo.seriesOfSubtree(siteFilter(caller), q.asset!, limit + 1);
      if (ids.length > limit) throw new ApiError('ANALYTICS.TOO_MANY_POINTS', `asset ${q.asset} has more than ${limit} series; ask for a smaller subtree or for series ids`);
    }
    const rows = await this.repo.intervals(ids, q.from, q.to);
    const out = new Map(ids.map((id) => [id, { seriesId: id, coveredS: 0, missingS: 0, coveredShare: null as number | null, intervals: [] as { status: string; from: string; to: string; detectedBy: string | null; reason: string | null }[] }]));
    for (const r of rows) {
      const s = out.get(r.series_id)!;
      const seconds = (r.to_time.getTime() - r.from_time.getTime()) / 1000;
      if (r.status === 'covered') s.coveredS += seconds;
      else s.missingS += seconds;
      s.intervals.push({ status: r.status, from: r.from_time.toISOString(), to: r.to_time.toISOString(), detectedBy: r.detected_by, reason: r.reason });
    }
    for (const s of out.values()) s.coveredShare = s.coveredS + s.missingS > 0 ? s.coveredS / (s.coveredS + s.missingS) : null;
    return { from: q.from.toISOString(), to: q.to.toISOString(), series: [...out.values()] };
  }
}
