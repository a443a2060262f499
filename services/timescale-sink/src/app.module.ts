import { Module, type DynamicModule } from '@nestjs/common';
import { KafkaModule } from '@weir/kafka';
import { createLogger, createMetricsRegistry, type Logger, type Registry } from '@weir/observability';
import type { SinkSettings } from './config';
import { CoreModule } from './common/core.module';
import { ContextModule } from './context/context.module';
import { CompletenessModule } from './completeness/completeness.module';
import { EventsModule } from './events/events.module';
import { RetentionModule } from './retention/retention.module';
import { RollupsModule } from './rollups/rollups.module';
import { SinkApplication } from './sink.application';
import { TelemetryModule } from './telemetry/telemetry.module';

/** Objects a caller (a test, the bench) may supply instead of the defaults. */
export interface AppModuleOptions {
  logger?: Logger;
  registry?: Registry;
}

/** The timescale-sink: core objects, Kafka, one module per feature, and the application that starts them. */
@Module({})
export class AppModule {
  /** The application for `settings` (validated by `sinkSettingsSchema`). */
  static forRoot(settings: SinkSettings, options: AppModuleOptions = {}): DynamicModule {
    const logger = options.logger ?? createLogger({ service: 'timescale-sink', level: settings.observability.logLevel });
    const registry = options.registry ?? createMetricsRegistry('timescale-sink');
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(settings, logger, registry),
        // The shared producer writes DLQ copies; send them at once, nothing else is produced.
        KafkaModule.forRoot({ settings: settings.kafka, logger, metrics: registry, global: true, producer: { name: 'dlq', lingerMs: 0 } }),
        TelemetryModule,
        EventsModule,
        ContextModule,
        RollupsModule,
        CompletenessModule,
        RetentionModule,
      ],
      providers: [SinkApplication],
      exports: [SinkApplication],
    };
  }
}
