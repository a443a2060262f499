import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { Registry, type Logger } from '@weir/observability';
import { createPool } from '@weir/timescale';
import type { Pool } from 'pg';
import { AppModule } from './app.module';
import { createApiMetrics } from './common/api-metrics';
import { ErrorFilter } from './common/error.filter';
import { routeOf, type HttpRequest, type HttpResponse } from './common/http-types';
import type { AnalyticsSettings } from './config';

/** What the API needs from its host process; the pool is created from the settings when not given. */
export interface AnalyticsApiDeps {
  logger: Logger;
  registry?: Registry;
  pool?: Pool;
}

/** A running analytics API. */
export interface RunningAnalyticsApi {
  /** `http://host:port` of the REST API. */
  url: string;
  port: number;
  pool: Pool;
  app: INestApplication;
  openApi: OpenAPIObject;
  /** Stops accepting requests, finishes those in flight, and ends the pool if this API created it. */
  close(): Promise<void>;
}

/** Builds the OpenAPI document of the application. */
function openApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Weir analytics API')
    .setDescription('Assets, series, time series, live values, ISO 22400 KPIs and data completeness from TimescaleDB. Every endpoint needs a bearer token (HS256 JWT) or an API key; results are limited to the caller\'s sites.')
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'apiKey')
    .build();
  return SwaggerModule.createDocument(app, config);
}

/**
 * Starts the REST API in this process: pool (unless given), Nest application with guard, error filter
 * and request metrics/logs, OpenAPI at /openapi.json and browsable docs at /docs. Health and metrics are
 * served by the caller's ops server (main.ts), not on this port.
 */
export async function startAnalyticsApi(settings: AnalyticsSettings, deps: AnalyticsApiDeps): Promise<RunningAnalyticsApi> {
  const logger = deps.logger;
  // The API's statements are short, but the planner's cost estimates of KPI and rollup queries over wide ranges
  // are high enough to trigger JIT compilation, which costs seconds per statement and buys nothing here: every
  // connection the API opens has it off.
  const pool = deps.pool ?? createPool(settings.database, logger, { options: '-c jit=off' });
  const ownsPool = deps.pool === undefined;
  const metrics = createApiMetrics(deps.registry ?? new Registry());
  let app: NestExpressApplication | undefined;
  try {
    app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(settings, { logger, pool, metrics }), { logger: ['error', 'warn'] });
    app.disable('x-powered-by');
    app.set('query parser', 'simple');
    app.use((req: HttpRequest, res: HttpResponse, next: () => void) => {
      const started = process.hrtime.bigint();
      const requestId = typeof req.headers['x-request-id'] === 'string' && /^[\w.-]{1,100}$/.test(req.headers['x-request-id']) ? req.headers['x-request-id'] : randomUUID();
      res.setHeader('X-Request-Id', requestId);
      res.on('finish', () => {
        // The route template, not the URL: bounded label values, no parameters in metrics.
        const route = routeOf(req);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        metrics.requests.inc({ route, method: req.method ?? 'GET', status: String(res.statusCode) });
        metrics.duration.observe({ route, method: req.method ?? 'GET' }, seconds);
        logger.debug({ requestId, route, method: req.method ?? 'GET', status: res.statusCode, ms: Math.round(seconds * 1000) }, 'request');
      });
      next();
    });
    app.useGlobalFilters(new ErrorFilter(logger));
    app.enableShutdownHooks([]);
    const openApi = openApiDocument(app);
    SwaggerModule.setup('docs', app, openApi, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });
    await app.listen(settings.api.port, settings.api.host);
    const port = (app.getHttpServer().address() as AddressInfo).port;
    const running = app;
    let closing: Promise<void> | undefined;
    logger.info({ host: settings.api.host, port }, 'analytics API listening');
    return {
      url: `http://${settings.api.host}:${port}`,
      port,
      pool,
      app,
      openApi,
      close: () =>
        (closing ??= (async () => {
          await running.close();
          if (ownsPool) await pool.end();
        })()),
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    if (ownsPool) await pool.end().catch(() => undefined);
    throw err;
  }
}
