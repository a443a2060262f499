import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AssetScope } from '../assets/asset-scope.service';
import { Caller, Requires } from '../auth/auth.guard';
import { siteFilter, type Principal } from '../auth/principal';
import { ApiError } from '../common/api-error';
import { assetId, checkRange, plainText, timeRange } from '../common/query-fields';
import { parseRequest } from '../common/validation';
import { AlertsRepository } from './alerts.repository';

const cursorSchema = z.strictObject({
  t: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
  f: z.string().min(1).max(500),
  a: z.number().int().min(0).max(32767),
});

const listQuery = z
  .strictObject({
    ...timeRange,
    severity: z.coerce.number().int().min(0).max(99).optional(),
    technique: z.string().regex(/^T\d{4}(\.\d{3})?$/, 'must be an ATT&CK technique id such as T0836').optional(),
    asset: assetId.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: plainText(800).optional(),
  })
  .superRefine((v, ctx) => checkRange(v, ctx, 400 * 86_400_000));

function decodeCursor(text: string): { time: string; findingUid: string; activityId: number } | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const c = cursorSchema.safeParse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return c.success ? { time: c.data.t, findingUid: c.data.f, activityId: c.data.a } : undefined;
  } catch {
    return undefined;
  }
}

@ApiTags('alerts')
@ApiSecurity('bearer')
@ApiSecurity('apiKey')
@Controller('v1/alerts')
export class AlertsController {
  constructor(
    @Inject(AlertsRepository) private readonly repo: AlertsRepository,
    @Inject(AssetScope) private readonly assets: AssetScope,
  ) {}

  @Get()
  @Requires('alerts:read')
  @ApiOperation({ summary: 'Alert activities (OCSF Detection Findings from the correlator), newest first, about assets of the caller\'s sites' })
  @ApiQuery({ name: 'from' })
  @ApiQuery({ name: 'to' })
  @ApiQuery({ name: 'severity', required: false, description: 'Lowest OCSF severity_id' })
  @ApiQuery({ name: 'technique', required: false, description: 'ATT&CK technique id, e.g. T0836' })
  @ApiQuery({ name: 'asset', required: false, description: 'Only alerts naming this asset' })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false, description: 'next from the previous page' })
  async list(@Caller() caller: Principal, @Query() query: unknown) {
    const q = parseRequest(listQuery, query);
    const before = q.cursor === undefined ? null : decodeCursor(q.cursor);
    if (before === undefined) throw new ApiError('REQUEST.INVALID', 'cursor: is not a cursor returned by this API', { issues: [{ param: 'cursor', problem: 'is not a cursor returned by this API' }] });
    if (q.asset !== undefined) await this.assets.resolve(caller, q.asset);
    const rows = await this.repo.list({ from: q.from, to: q.to, minSeverity: q.severity ?? null, technique: q.technique ?? null, sites: siteFilter(caller), assetId: q.asset ?? null, before, limit: q.limit + 1 });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      alerts: page.map((r) => ({
        t: r.time,
        findingUid: r.finding_uid,
        activityId: r.activity_id,
        severityId: r.severity_id,
        statusId: r.status_id,
        title: r.title,
        analytic: { uid: r.analytic_uid, name: r.analytic_name },
        attackTechniques: r.attack_techniques,
        resourceUids: r.resource_uids,
      })),
      next: rows.length > q.limit && last ? Buffer.from(JSON.stringify({ t: last.time, f: last.finding_uid, a: last.activity_id })).toString('base64url') : null,
    };
  }
}
