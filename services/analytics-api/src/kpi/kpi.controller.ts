import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AssetScope } from '../assets/asset-scope.service';
import { Caller, Requires } from '../auth/auth.guard';
import { siteFilter, type Principal } from '../auth/principal';
import { assetId, checkRange, timeRange, timeZone } from '../common/query-fields';
import { parseRequest } from '../common/validation';
import { DOWNTIME_GROUPS, KpiRepository, OEE_GROUPS, type KpiFilter, type OeeRow } from './kpi.repository';

// KPIs are computed from intervals, not rollups; a quarter is the longest range one request may ask for.
const KPI_MAX_RANGE_MS = 93 * 86_400_000;

const base = { ...timeRange, asset: assetId.optional(), tz: timeZone };
const oeeQuery = z.strictObject({ ...base, by: z.enum(OEE_GROUPS).default('machine') }).superRefine((v, ctx) => checkRange(v, ctx, KPI_MAX_RANGE_MS));
const reliabilityQuery = z.strictObject({ ...base, by: z.enum(OEE_GROUPS).default('machine') }).superRefine((v, ctx) => checkRange(v, ctx, KPI_MAX_RANGE_MS));
const downtimeQuery = z
  .strictObject({ ...base, by: z.enum(DOWNTIME_GROUPS).default('reason'), state: z.enum(['down', 'idle', 'all']).default('all') })
  .superRefine((v, ctx) => checkRange(v, ctx, KPI_MAX_RANGE_MS));
const energyQuery = z.strictObject(base).superRefine((v, ctx) => checkRange(v, ctx, KPI_MAX_RANGE_MS));

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

/** One OEE row in the response: the ratios and the times and quantities they are made of. */
export function oeeDto(r: OeeRow) {
  return {
    siteId: r.site_id,
    key: r.key,
    label: r.label,
    availability: r.availability,
    performance: r.performance,
    quality: r.quality,
    oee: r.oee,
    plannedTimeS: r.planned_s,
    excludedTimeS: r.excluded_s,
    plannedBusyTimeS: r.planned_busy_s,
    runTimeS: r.run_s,
    idleTimeS: r.idle_s,
    downTimeS: r.down_s,
    producedQuantity: r.produced,
    goodQuantity: r.good,
    idealTimeS: r.ideal_s,
    excludedQuantity: r.excluded_produced,
    counterResets: Number(r.counter_resets),
    failures: Number(r.failures),
  };
}

@ApiTags('kpi')
@ApiSecurity('bearer')
@ApiSecurity('apiKey')
@Controller('v1/kpi')
export class KpiController {
  constructor(
    @Inject(KpiRepository) private readonly repo: KpiRepository,
    @Inject(AssetScope) private readonly assets: AssetScope,
  ) {}

  private async filter(caller: Principal, q: { from: Date; to: Date; tz: string; asset?: string | undefined }): Promise<KpiFilter> {
    if (q.asset !== undefined) await this.assets.resolve(caller, q.asset);
    return { from: q.from, to: q.to, timeZone: q.tz, sites: siteFilter(caller), assetId: q.asset ?? null };
  }

  @Get('oee')
  @Requires('kpi:read')
  @ApiOperation({ summary: 'ISO 22400 OEE = availability × performance × quality per machine, line, site, shift, order or day (reads kpi.oee)' })
  @ApiQuery({ name: 'from' })
  @ApiQuery({ name: 'to' })
  @ApiQuery({ name: 'by', required: false, enum: OEE_GROUPS })
  @ApiQuery({ name: 'asset', required: false, description: 'Only machines of this site, area, line or machine' })
  @ApiQuery({ name: 'tz', required: false, description: 'Time zone of the production day (by=day)' })
  async oee(@Caller() caller: Principal, @Query() query: unknown) {
    const q = parseRequest(oeeQuery, query);
    const rows = await this.repo.oee(await this.filter(caller, q), q.by);
    return { from: q.from.toISOString(), to: q.to.toISOString(), by: q.by, rows: rows.map(oeeDto) };
  }

  @Get('reliability')
  @Requires('kpi:read')
  @ApiOperation({ summary: 'MTBF (run time / failures) and MTTR (down time / failures) per machine, line, site, shift, order or day (reads kpi.oee)' })
  @ApiQuery({ name: 'from' })
  @ApiQuery({ name: 'to' })
  @ApiQuery({ name: 'by', required: false, enum: OEE_GROUPS })
  @ApiQuery({ name: 'asset', required: false })
  @ApiQuery({ name: 'tz', required: false })
  async reliability(@Caller() caller: Principal, @Query() query: unknown) {
    const q = parseRequest(reliabilityQuery, query);
    const rows = await this.repo.oee(await this.filter(caller, q), q.by);
    return {
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      by: q.by,
      rows: rows.map((r) => ({ siteId: r.site_id, key: r.key, failures: Number(r.failures), runTimeS: r.run_s, downTimeS: r.down_s, mtbfS: num(r.mtbf_s), mttrS: num(r.mttr_s), excludedTimeS: r.excluded_s })),
    };
  }

  @Get('downtime')
  @Requires('kpi:read')
  @ApiOperation({ summary: 'Downtime Pareto: idle/down time in planned time by reason, category or machine, largest first, with cumulative share (reads kpi.downtime)' })
  @ApiQuery({ name: 'from' })
  @ApiQuery({ name: 'to' })
  @ApiQuery({ name: 'by', required: false, enum: DOWNTIME_GROUPS })
  @ApiQuery({ name: 'state', required: false, enum: ['down', 'idle', 'all'] })
  @ApiQuery({ name: 'asset', required: false })
  @ApiQuery({ name: 'tz', required: false })
  async downtime(@Caller() caller: Principal, @Query() query: unknown) {
    const q = parseRequest(downtimeQuery, query);
    const rows = await this.repo.downtime(await this.filter(caller, q), q.by, q.state === 'all' ? ['down', 'idle'] : [q.state]);
    const total = rows.reduce((s, r) => s + r.seconds, 0);
    let running = 0;
    return {
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      by: q.by,
      totalS: total,
      rows: rows.map((r) => {
        running += r.seconds;
        return { key: r.key, state: r.state, reasonCode: r.reason_code, category: r.category, reason: r.reason, seconds: r.seconds, occurrences: Number(r.occurrences), share: total > 0 ? r.seconds / total : null, cumulativeShare: total > 0 ? running / total : null };
      }),
    };
  }

  @Get('energy')
  @Requires('kpi:read')
  @ApiOperation({ summary: 'Energy (kWh) and energy per good unit by production order and cost centre (reads kpi.energy)' })
  @ApiQuery({ name: 'from' })
  @ApiQuery({ name: 'to' })
  @ApiQuery({ name: 'asset', required: false })
  @ApiQuery({ name: 'tz', required: false })
  async energy(@Caller() caller: Principal, @Query() query: unknown) {
    const q = parseRequest(energyQuery, query);
    const rows = await this.repo.energy(await this.filter(caller, q));
    return {
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      rows: rows.map((r) => ({ siteId: r.site_id, orderId: r.order_id, material: r.material, costCentre: r.cost_centre, energyKwh: r.energy_kwh, goodQuantity: r.good, kwhPerGoodUnit: r.kwh_per_good_unit })),
    };
  }
}
