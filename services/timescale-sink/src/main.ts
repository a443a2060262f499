import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ConfigError, loadConfig, redact, type LoadedConfig } from '@weir/config';
import { createLogger, GracefulShutdown } from '@weir/observability';
import { AppModule } from './app.module';
import { sinkSettingsSchema, type SinkSettings } from './config';

// Bootstrap only: settings are read once here and injected everywhere else.

function loadSettings(): LoadedConfig<SinkSettings> | undefined {
  try {
    return loadConfig(sinkSettingsSchema, { env: process.env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Every bad setting at once, with where it came from; exit code 2 = bad usage or settings.
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 2;
    return undefined;
  }
}

async function main(): Promise<void> {
  const loaded = loadSettings();
  if (!loaded) return;
  const { config, unusedEnv } = loaded;
  const logger = createLogger({ service: 'timescale-sink', level: config.observability.logLevel });
  logger.info({ settings: redact(config), unusedEnv }, 'starting timescale-sink');
  // SIGTERM/SIGINT close the application: consumers commit what they wrote, then producer and pool close,
  // then the process exits 0. (Nest's own shutdown hooks re-raise the signal and end the process by it.)
  const shutdown = new GracefulShutdown(logger);
  shutdown.installSignalHandlers();
  try {
    const app = await NestFactory.createApplicationContext(AppModule.forRoot(config, { logger }), { logger: ['error', 'warn'] });
    shutdown.add({ name: 'application', stop: () => app.close() });
  } catch (err) {
    logger.fatal({ err, code: (err as { code?: string }).code }, 'timescale-sink failed to start');
    await shutdown.shutdown().catch(() => undefined);
    process.exit(1);
  }
}

void main();
