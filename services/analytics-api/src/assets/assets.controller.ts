import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Caller, Requires } from '../auth/auth.guard';
import { siteFilter, type Principal } from '../auth/principal';
import { globToRegex, pathGlob } from '../common/query-fields';
import { parseRequest } from '../common/validation';
import { AssetsRepository, type AssetRow } from './assets.repository';

const listQuery = z.strictObject({
  path: pathGlob.optional(),
  format: z.enum(['flat', 'tree']).default('flat'),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

/** One asset in the response. */
export interface AssetDto {
  id: string;
  parentId: string | null;
  level: string;
  name: string;
  path: string;
  costCentre: string | null;
  siteId: string | null;
  lineId: string | null;
  children?: AssetDto[];
}

const toDto = (a: AssetRow): AssetDto => ({ id: a.asset_id, parentId: a.parent_id, level: a.level, name: a.name, path: a.path, costCentre: a.cost_centre, siteId: a.site_id, lineId: a.line_id });

/** Nests a flat list under parents that are in it; the rest are roots. */
export function toTree(assets: AssetDto[]): AssetDto[] {
  const byId = new Map(assets.map((a) => [a.id, { ...a, children: [] as AssetDto[] }]));
  const roots: AssetDto[] = [];
  for (const a of byId.values()) {
    const parent = a.parentId === null ? undefined : byId.get(a.parentId);
    (parent ? parent.children! : roots).push(a);
  }
  return roots;
}

@ApiTags('assets')
@ApiSecurity('bearer')
@ApiSecurity('apiKey')
@Controller('v1/assets')
export class AssetsController {
  constructor(@Inject(AssetsRepository) private readonly assets: AssetsRepository) {}

  @Get()
  @Requires('assets:read')
  @ApiOperation({ summary: 'The ISA-95 asset tree (current versions) of the sites the caller may read' })
  @ApiQuery({ name: 'path', required: false, description: 'Path glob: * one segment, ** any depth, e.g. acme/hh/**' })
  @ApiQuery({ name: 'format', required: false, enum: ['flat', 'tree'] })
  @ApiQuery({ name: 'limit', required: false, description: '1..10000, default 1000' })
  async list(@Caller() caller: Principal, @Query() query: unknown): Promise<{ assets: AssetDto[]; truncated: boolean }> {
    const q = parseRequest(listQuery, query);
    const rows = await this.assets.list(siteFilter(caller), q.path === undefined ? null : globToRegex(q.path), q.limit + 1);
    const dtos = rows.slice(0, q.limit).map(toDto);
    return { assets: q.format === 'tree' ? toTree(dtos) : dtos, truncated: rows.length > q.limit };
  }
}
