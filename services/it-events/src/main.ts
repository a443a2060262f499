import { ConfigError, loadConfig, redact } from '@weir/config';
import { createLogger, createMetricsRegistry, GracefulShutdown, HealthRegistry, startOpsServer } from '@weir/observability';
import { itEventsSettingsSchema } from './config';
import { startItEvents } from './it-events';

// Bootstrap only: settings are read once here and passed down.
async function main(): Promise<void> {
  let loaded;
  try {
    loaded = loadConfig(itEventsSettingsSchema, { env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const { config, unusedEnv, file } = loaded;
  const logger = createLogger({ service: 'it-events', level: config.logLevel });
  logger.info({ config: redact(config), file, unusedEnv }, 'configuration loaded');

  const metrics = createMetricsRegistry('it-events');
  const health = new HealthRegistry();
  const shutdown = new GracefulShutdown(logger);
  shutdown.installSignalHandlers();

  const service = await startItEvents(config, { logger, metrics, health });
  shutdown.add({ name: 'it-events', stop: () => service.stop() });
  const ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, metrics, health, logger });
  shutdown.add({ name: 'ops-server', stop: () => ops.close() });
}

main().catch((err: unknown) => {
  // The logger may not exist yet: write the error plainly.
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
