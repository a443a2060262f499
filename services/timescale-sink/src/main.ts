import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { runService } from '@weir/observability';
import { AppModule } from './app.module';
import { sinkSettingsSchema } from './config';

// Bootstrap only: settings are read once here and injected everywhere else.
void runService({
  name: 'timescale-sink',
  schema: sinkSettingsSchema,
  logLevel: (c) => c.observability.logLevel,
  // SIGTERM/SIGINT close the application: consumers commit what they wrote, then producer and pool close,
  // then the process exits 0. (Nest's own shutdown hooks re-raise the signal and end the process by it.)
  start: async ({ config, logger, shutdown }) => {
    const app = await NestFactory.createApplicationContext(AppModule.forRoot(config, { logger }), { logger: ['error', 'warn'] });
    shutdown.add({ name: 'application', stop: () => app.close() });
  },
});
