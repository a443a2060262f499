import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AssetScope } from '../assets/asset-scope.service';
import { Caller, Requires } from '../auth/auth.guard';
import { siteFilter, type Principal } from '../auth/principal';
import { assetId } from '../common/query-fields';
import { parseRequest } from '../common/validation';
import { LatestRepository } from './latest.repository';

const latestQuery = z.strictObject({
  asset: assetId.optional(),
  limit: z.coerce.number().int().min(1).max(20_000).default(5000),
});

/** The live state of one asset: machine state (for machines) and the latest value of each of its series. */
export interface AssetLatestDto {
  assetId: string;
  path: string;
  level: string;
  name: string;
  siteId: string | null;
  /** `since`: when the machine entered the state; `reasonSince`: when the current reason began (later, when the reason changed meanwhile). */
  state: { state: string; reasonCode: number | null; reason: string | null; since: string; reasonSince: string } | null;
  values: { seriesId: number; name: string; unit: string | null; t: string | null; value: unknown; status: number | null; quality: string | null }[];
}

const severity = (status: number): string => (status >>> 30 === 0 ? 'good' : status >>> 30 === 1 ? 'uncertain' : 'bad');

@ApiTags('latest')
@ApiSecurity('bearer')
@ApiSecurity('apiKey')
@Controller('v1/latest')
export class LatestController {
  constructor(
    @Inject(LatestRepository) private readonly repo: LatestRepository,
    @Inject(AssetScope) private readonly assets: AssetScope,
  ) {}

  @Get()
  @Requires('assets:read')
  @ApiOperation({ summary: 'Live twin: latest value of every series and current machine state, per asset of a subtree' })
  @ApiQuery({ name: 'asset', required: false, description: 'Root of the subtree (default: every asset the caller may read)' })
  @ApiQuery({ name: 'limit', required: false, description: 'Most series, 1..20000, default 5000' })
  async latest(@Caller() caller: Principal, @Query() query: unknown): Promise<{ assets: AssetLatestDto[]; truncated: boolean }> {
    const q = parseRequest(latestQuery, query);
    if (q.asset !== undefined) await this.assets.resolve(caller, q.asset);
    const sites = siteFilter(caller);
    const [rows, states] = await Promise.all([this.repo.latest(sites, q.asset ?? null, q.limit + 1), this.repo.machineStates(sites, q.asset ?? null)]);
    const stateOf = new Map(states.map((s) => [s.machine_id, s]));
    const byAsset = new Map<string, AssetLatestDto>();
    for (const r of rows.slice(0, q.limit)) {
      let a = byAsset.get(r.asset_id);
      if (!a) {
        const st = stateOf.get(r.asset_id);
        a = {
          assetId: r.asset_id,
          path: r.path,
          level: r.level,
          name: r.asset_name,
          siteId: r.site_id,
          state: st ? { state: st.state, reasonCode: st.reason_code, reason: st.reason, since: st.since.toISOString(), reasonSince: st.reason_since.toISOString() } : null,
          values: [],
        };
        byAsset.set(r.asset_id, a);
      }
      const status = r.status === null ? null : Number(r.status);
      a.values.push({ seriesId: r.series_id, name: r.name, unit: r.unit, t: r.time?.toISOString() ?? null, value: r.value ?? null, status, quality: status === null ? null : severity(status) });
    }
    return { assets: [...byAsset.values()], truncated: rows.length > q.limit };
  }
}
