import 'reflect-metadata';
import { ConfigError, loadConfig, redact, type LoadedConfig } from '@weir/config';
import { createLogger, createMetricsRegistry, GracefulShutdown, HealthRegistry, startOpsServer } from '@weir/observability';
import { databaseHealthCheck } from '@weir/timescale';
import { startAnalyticsApi } from './analytics-api';
import { analyticsSettingsSchema, type AnalyticsSettings } from './config';

// Bootstrap only: settings are read once here and injected everywhere else.

function loadSettings(): LoadedConfig<AnalyticsSettings> | undefined {
  try {
    return loadConfig(analyticsSettingsSchema, { env: process.env });
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
  const logger = createLogger({ service: 'analytics-api', level: config.observability.logLevel });
  logger.info({ settings: redact(config), unusedEnv }, 'starting analytics-api');
  const shutdown = new GracefulShutdown(logger);
  shutdown.installSignalHandlers();
  try {
    const registry = createMetricsRegistry('analytics-api');
    const health = new HealthRegistry();
    const api = await startAnalyticsApi(config, { logger, registry });
    shutdown.add({ name: 'api', stop: () => api.close() });
    health.register(databaseHealthCheck(api.pool));
    const obs = config.observability;
    const ops = await startOpsServer({ host: obs.opsHost, port: obs.opsPort, metrics: registry, health, logger });
    shutdown.add({ name: 'ops server', stop: () => ops.close() });
    logger.info({ apiPort: api.port, opsPort: ops.port }, 'analytics-api started');
  } catch (err) {
    logger.fatal({ err, code: (err as { code?: string }).code }, 'analytics-api failed to start');
    await shutdown.shutdown().catch(() => undefined);
    process.exit(1);
  }
}

void main();
