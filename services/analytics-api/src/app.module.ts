import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { Logger } from '@weir/observability';
import type { Pool } from 'pg';
import { AlertsController } from './alerts/alerts.controller';
import { AlertsRepository } from './alerts/alerts.repository';
import { AssetScope } from './assets/asset-scope.service';
import { AssetsController } from './assets/assets.controller';
import { AssetsRepository } from './assets/assets.repository';
import { AuthGuard } from './auth/auth.guard';
import { Authenticator } from './auth/auth.service';
import { RateLimiter } from './auth/rate-limiter';
import type { ApiMetrics } from './common/api-metrics';
import { Db } from './common/db';
import { API_METRICS, LOGGER, PG_POOL, SETTINGS } from './common/tokens';
import { CompletenessController } from './completeness/completeness.controller';
import { CompletenessRepository } from './completeness/completeness.repository';
import type { AnalyticsSettings } from './config';
import { HuntJobsController } from './hunt/hunt-jobs.controller';
import { HuntJobs } from './hunt/hunt-jobs.service';
import { HuntController } from './hunt/hunt.controller';
import { HuntRepository } from './hunt/hunt.repository';
import { HuntService } from './hunt/hunt.service';
import { InventoryController } from './inventory/inventory.controller';
import { InventoryRepository } from './inventory/inventory.repository';
import { KpiController } from './kpi/kpi.controller';
import { KpiRepository } from './kpi/kpi.repository';
import { LatestController } from './latest/latest.controller';
import { LatestRepository } from './latest/latest.repository';
import { SeriesScope } from './series/series-scope.service';
import { SeriesController } from './series/series.controller';
import { SeriesRepository } from './series/series.repository';
import { TimeseriesController } from './timeseries/timeseries.controller';
import { TimeseriesRepository } from './timeseries/timeseries.repository';

/** The HTTP application: every controller behind the auth guard (authentication, rate limit, role). */
@Module({})
export class AppModule {
  /** The module for these settings and shared resources (pool, logger, metrics are owned by the caller). */
  static forRoot(settings: AnalyticsSettings, deps: { logger: Logger; pool: Pool; metrics: ApiMetrics }): DynamicModule {
    return {
      module: AppModule,
      controllers: [AssetsController, SeriesController, TimeseriesController, LatestController, KpiController, CompletenessController, AlertsController, HuntController, HuntJobsController, InventoryController],
      providers: [
        { provide: SETTINGS, useValue: settings },
        { provide: LOGGER, useValue: deps.logger },
        { provide: PG_POOL, useValue: deps.pool },
        { provide: API_METRICS, useValue: deps.metrics },
        { provide: Db, useFactory: (pool: Pool) => new Db(pool), inject: [PG_POOL] },
        { provide: Authenticator, useValue: new Authenticator(settings.api.auth) },
        { provide: RateLimiter, useValue: new RateLimiter(settings.api.rateLimit.perMinute, settings.api.rateLimit.burst) },
        { provide: APP_GUARD, useClass: AuthGuard },
        AssetsRepository,
        AssetScope,
        SeriesRepository,
        SeriesScope,
        TimeseriesRepository,
        LatestRepository,
        KpiRepository,
        CompletenessRepository,
        AlertsRepository,
        HuntRepository,
        HuntService,
        HuntJobs,
        InventoryRepository,
      ],
    };
  }
}
