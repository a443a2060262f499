import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { HealthRegistry, type Logger, type Registry } from '@weir/observability';
import { createPool } from '@weir/timescale';
import type { Pool } from 'pg';
import type { SinkSettings } from '../config';
import { FeedConsumerFactory } from './feed-consumer.factory';
import { SinkMetrics } from './sink-metrics';
import { StorageEdition } from './storage-edition';
import { HEALTH, LOGGER, METRICS_REGISTRY, PG_POOL, SINK_SETTINGS } from './tokens';
import { WriteHealth } from './write-health';

/**
 * Shared objects of the sink, visible to every feature module: settings,
 * logger, metrics, health, the database pool, the storage edition and the
 * consumer factory. Closes the pool last on shutdown.
 */
@Global()
@Module({})
export class CoreModule implements OnApplicationShutdown {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** The module for one set of settings, logging to `logger` and measuring into `registry`. */
  static forRoot(settings: SinkSettings, logger: Logger, registry: Registry): DynamicModule {
    const providers = [
      { provide: SINK_SETTINGS, useValue: settings },
      { provide: LOGGER, useValue: logger },
      { provide: METRICS_REGISTRY, useValue: registry },
      { provide: HEALTH, useFactory: (): HealthRegistry => new HealthRegistry() },
      { provide: PG_POOL, useFactory: (): Pool => createPool(settings.database, logger) },
      { provide: SinkMetrics, useFactory: (): SinkMetrics => new SinkMetrics(registry) },
      WriteHealth,
      StorageEdition,
      FeedConsumerFactory,
    ];
    return { module: CoreModule, global: true, providers, exports: [SINK_SETTINGS, LOGGER, METRICS_REGISTRY, HEALTH, PG_POOL, SinkMetrics, WriteHealth, StorageEdition, FeedConsumerFactory] };
  }

  /** Closes the pool once everything that used it has stopped. */
  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
