import { loadConfig, redact } from '@weir/config';
import { createLogger, createMetricsRegistry, GracefulShutdown, HealthRegistry, startOpsServer } from '@weir/observability';
import { historianSettingsSchema } from './config';
import { startHistorianConnector } from './connector';

async function main(): Promise<void> {
  const { config, unusedEnv, file } = loadConfig(historianSettingsSchema, { env: process.env });
  const logger = createLogger({ service: 'historian-connector', level: config.logLevel });
  logger.info({ config: redact(config), file, unusedEnv }, 'configuration loaded');

  const metrics = createMetricsRegistry('historian-connector');
  const health = new HealthRegistry();
  const shutdown = new GracefulShutdown(logger);
  shutdown.installSignalHandlers();

  const connector = await startHistorianConnector({ settings: config, logger, metrics, health });
  shutdown.add({ name: 'connector', stop: () => connector.stop() });
  // The only port the connector opens: loopback by default, GET only, no input.
  const ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, metrics, health, logger });
  shutdown.add({ name: 'ops-server', stop: () => ops.close() });
}

main().catch((err: unknown) => {
  // The logger may not exist yet (invalid configuration): write the error plainly.
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
