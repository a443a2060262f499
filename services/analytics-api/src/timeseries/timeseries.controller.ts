import { Controller, Get, Header, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Caller, Requires } from '../auth/auth.guard';
import type { Principal } from '../auth/principal';
import { ApiError } from '../common/api-error';
import { checkRange, isList, seriesIds, timeRange, timeZone } from '../common/query-fields';
import { SETTINGS } from '../common/tokens';
import { parseRequest } from '../common/validation';
import type { AnalyticsSettings } from '../config';
import { SeriesScope } from '../series/series-scope.service';
import { maxBuckets, parseBucketWidth } from './bucket-width';
import { decodeCursor, encodeCursor } from './raw-cursor';
import { AGGREGATES, FILLS, QUALITIES, TimeseriesRepository, type Aggregate, type Quality } from './timeseries.repository';

const qualityField = z.enum(Object.keys(QUALITIES) as [Quality, ...Quality[]]).default('good');

/** One point of a bucketed series: the bucket start and the asked aggregates. */
export type BucketPoint = { t: string; filled?: true } & Partial<Record<Aggregate, number | null>>;

@ApiTags('timeseries')
@ApiSecurity('bearer')
@ApiSecurity('apiKey')
@Controller('v1/timeseries')
export class TimeseriesController {
  private readonly bucketedQuery;
  private readonly rawQuery;

  constructor(
    @Inject(SETTINGS) private readonly settings: AnalyticsSettings,
    @Inject(TimeseriesRepository) private readonly repo: TimeseriesRepository,
    @Inject(SeriesScope) private readonly scope: SeriesScope,
  ) {
    const limits = settings.api.limits;
    this.bucketedQuery = z
      .strictObject({
        series: seriesIds,
        ...timeRange,
        bucket: z.string().max(10).transform((v, ctx) => {
          const w = parseBucketWidth(v);
          if (!w) {
            ctx.addIssue({ code: 'custom', message: 'must be a width such as 30s, 1m, 15m, 1h or 1d' });
            return z.NEVER;
          }
          return w;
        }),
        agg: z
          .string()
          .max(200)
          .default('avg')
          .transform((v, ctx) => {
            const list = [...new Set(v.split(','))];
            const bad = list.filter((a) => !(AGGREGATES as readonly string[]).includes(a));
            if (bad.length > 0) {
              ctx.addIssue({ code: 'custom', message: `unknown aggregate(s) ${bad.join(', ')}; use ${AGGREGATES.join(', ')}` });
              return z.NEVER;
            }
            return list as Aggregate[];
          }),
        fill: z.enum(FILLS).default('none'),
        quality: qualityField,
        tz: timeZone,
      })
      .superRefine((v, ctx) => {
        checkRange(v, ctx, limits.maxRangeMs);
        if (isList(v.series) && v.series.length > limits.maxSeries) ctx.addIssue({ code: 'custom', path: ['series'], message: `at most ${limits.maxSeries} series per query` });
      });
    this.rawQuery = z
      .strictObject({
        series: seriesIds,
        ...timeRange,
        quality: qualityField,
        limit: z.coerce.number().int().min(1).max(limits.maxRawRows).default(Math.min(1000, limits.maxRawRows)),
        cursor: z.string().max(400).optional(),
      })
      .superRefine((v, ctx) => {
        checkRange(v, ctx, limits.maxRangeMs);
        if (isList(v.series) && v.series.length > limits.maxSeries) ctx.addIssue({ code: 'custom', path: ['series'], message: `at most ${limits.maxSeries} series per query` });
      });
  }

  @Get()
  @Requires('timeseries:read')
  @ApiOperation({ summary: 'Bucketed aggregates (time_bucket) of numeric series, with gap filling (null, locf), quality filter and time-zone aware buckets' })
  @ApiQuery({ name: 'series', description: 'Comma-separated series ids' })
  @ApiQuery({ name: 'from', description: 'ISO 8601 start (inclusive)' })
  @ApiQuery({ name: 'to', description: 'ISO 8601 end (exclusive)' })
  @ApiQuery({ name: 'bucket', description: '30s, 1m, 15m, 1h, 1d, ...' })
  @ApiQuery({ name: 'agg', required: false, description: `Comma-separated: ${AGGREGATES.join(', ')} (default avg)` })
  @ApiQuery({ name: 'fill', required: false, enum: FILLS })
  @ApiQuery({ name: 'quality', required: false, enum: Object.keys(QUALITIES) })
  @ApiQuery({ name: 'tz', required: false, description: 'IANA time zone for bucket boundaries (default UTC)' })
  @Header('Content-Type', 'application/json; charset=utf-8')
  async bucketed(@Caller() caller: Principal, @Query() query: unknown): Promise<string> {
    const q = parseRequest(this.bucketedQuery, query);
    const points = q.series.length * maxBuckets(q.from.getTime(), q.to.getTime(), q.bucket);
    const max = this.settings.api.limits.maxPoints;
    if (points > max)
      throw new ApiError('ANALYTICS.TOO_MANY_POINTS', `the query would return up to ${points} points (series × buckets), more than the limit of ${max}; use a wider bucket, a shorter range or fewer series`);
    const series = await this.scope.resolve(caller, q.series);
    const json = await this.repo.bucketedJson(
      {
      seriesIds: q.series,
      from: q.from,
      to: q.to,
      bucket: q.bucket.interval,
      timeZone: q.tz,
      quality: q.quality,
      fill: q.fill,
      windowed: q.agg.includes('increase') || q.agg.includes('integral'),
      },
      q.agg,
    );
    // The points arrive as JSON text (BucketPoint[] per series); they are spliced in, not parsed and written again.
    const head = JSON.stringify({ from: q.from.toISOString(), to: q.to.toISOString(), bucket: q.bucket.interval, tz: q.tz, fill: q.fill, quality: q.quality });
    const members = series.map((s) => `${JSON.stringify({ id: s.id, unit: s.unit, assetId: s.asset_id, name: s.browse_path ?? s.node_id }).slice(0, -1)},"points":${json.get(s.id) ?? '[]'}}`);
    return `${head.slice(0, -1)},"series":[${members.join(',')}]}`;
  }

  @Get('raw')
  @Requires('timeseries:raw')
  @ApiOperation({ summary: 'Raw samples (numeric and other) in time order with status and quality, keyset-paged' })
  @ApiQuery({ name: 'series', description: 'Comma-separated series ids' })
  @ApiQuery({ name: 'from' })
  @ApiQuery({ name: 'to' })
  @ApiQuery({ name: 'quality', required: false, enum: Object.keys(QUALITIES) })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false, description: 'next from the previous page' })
  async raw(@Caller() caller: Principal, @Query() query: unknown) {
    const q = parseRequest(this.rawQuery, query);
    const after = q.cursor === undefined ? null : decodeCursor(q.cursor);
    if (after === undefined) throw new ApiError('REQUEST.INVALID', 'cursor: is not a cursor returned by this API', { issues: [{ param: 'cursor', problem: 'is not a cursor returned by this API' }] });
    await this.scope.resolve(caller, q.series);
    const rows = await this.repo.raw({ seriesIds: q.series, from: q.from, to: q.to, quality: q.quality, after, limit: q.limit + 1 });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      samples: page.map((r) => ({ seriesId: r.series_id, t: r.time, seq: r.seq, value: r.value, status: Number(r.status), quality: r.quality, origin: r.origin })),
      next: rows.length > q.limit && last ? encodeCursor({ time: last.time, seriesId: last.series_id, seq: last.seq }) : null,
    };
  }
}

