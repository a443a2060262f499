import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AssetScope } from '../assets/asset-scope.service';
import { Caller, Requires } from '../auth/auth.guard';
import { siteFilter, type Principal } from '../auth/principal';
import { assetId, globToRegex, instant, pathGlob, plainText } from '../common/query-fields';
import { parseRequest } from '../common/validation';
import { SeriesRepository } from './series.repository';

const DAY_MS = 86_400_000;

const searchQuery = z
  .strictObject({
    path: pathGlob.optional(),
    q: plainText(200).optional(),
    asset: assetId.optional(),
    from: instant.optional(),
    to: instant.optional(),
    after: z.coerce.number().int().min(0).max(2_147_483_647).default(0),
    limit: z.coerce.number().int().min(1).max(5000).default(500),
  })
  .superRefine((v, ctx) => {
    if (!(v.from instanceof Date) || !(v.to instanceof Date)) return;
    if (v.to <= v.from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    if (v.to.getTime() - v.from.getTime() > 92 * DAY_MS) ctx.addIssue({ code: 'custom', path: ['to'], message: 'quality statistics span at most 92 days' });
  });

/** One series in the response. */
export interface SeriesDto {
  id: number;
  sourceId: string;
  nodeId: string;
  browsePath: string | null;
  dataType: string | null;
  unit: string | null;
  assetId: string | null;
  assetPath: string | null;
  siteId: string | null;
  firstSeen: string;
  lastSeen: string;
  quality: { good: number; uncertain: number; bad: number; goodRatio: number | null };
}

@ApiTags('series')
@ApiSecurity('bearer')
@ApiSecurity('apiKey')
@Controller('v1/series')
export class SeriesController {
  constructor(
    @Inject(SeriesRepository) private readonly series: SeriesRepository,
    @Inject(AssetScope) private readonly assets: AssetScope,
  ) {}

  @Get()
  @Requires('series:read')
  @ApiOperation({ summary: 'Series with unit, source and quality statistics (from the 1-minute rollups over from..to, default the last 24 h); search by path glob' })
  @ApiQuery({ name: 'path', required: false, description: 'Glob over <asset path>/<browse path>: * one segment, ** any depth, e.g. acme/hh/**/Temperature' })
  @ApiQuery({ name: 'q', required: false, description: 'Substring of node id or browse path (case-insensitive)' })
  @ApiQuery({ name: 'asset', required: false, description: 'Only series of this asset and its subtree' })
  @ApiQuery({ name: 'from', required: false })
  @ApiQuery({ name: 'to', required: false })
  @ApiQuery({ name: 'after', required: false, description: 'Paging: the last id of the previous page' })
  @ApiQuery({ name: 'limit', required: false, description: '1..5000, default 500' })
  async search(@Caller() caller: Principal, @Query() query: unknown): Promise<{ series: SeriesDto[]; next: number | null }> {
    const q = parseRequest(searchQuery, query);
    if (q.asset !== undefined) await this.assets.resolve(caller, q.asset);
    const to = q.to ?? new Date();
    const from = q.from ?? new Date(to.getTime() - DAY_MS);
    const rows = await this.series.search({
      sites: siteFilter(caller),
      pathRegex: q.path === undefined ? null : globToRegex(q.path),
      text: q.q ?? null,
      assetId: q.asset ?? null,
      from,
      to,
      afterId: q.after,
      limit: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    return {
      series: page.map((r) => {
        const good = Number(r.good ?? 0);
        const uncertain = Number(r.uncertain ?? 0);
        const bad = Number(r.bad ?? 0);
        const total = good + uncertain + bad;
        return {
          id: r.id,
          sourceId: r.source_id,
          nodeId: r.node_id,
          browsePath: r.browse_path,
          dataType: r.data_type,
          unit: r.unit,
          assetId: r.asset_id,
          assetPath: r.asset_path,
          siteId: r.site_id,
          firstSeen: r.first_seen.toISOString(),
          lastSeen: r.last_seen.toISOString(),
          quality: { good, uncertain, bad, goodRatio: total === 0 ? null : good / total },
        };
      }),
      next: rows.length > q.limit ? page[page.length - 1]!.id : null,
    };
  }
}
