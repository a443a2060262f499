import { loadConfig, redact } from '@weir/config';
import { createLogger, createMetricsRegistry, GracefulShutdown, HealthRegistry, startOpsServer } from '@weir/observability';
import { connectorSettingsSchema } from './config';
import { startConnector } from './connector';

async function main(): Promise<void> {
  const { config, unusedEnv, file } = loadConfig(connectorSettingsSchema, { env: process.env });
  const logger = createLogger({ service: 'opcua-connector', level: config.logLevel });
  logger.info({ config: redact(config), file, unusedEnv }, 'configuration loaded');

  const metrics = createMetricsRegistry('opcua-connector');
  const health = new HealthRegistry();
  const shutdown = new GracefulShutdown(logger);
  shutdown.installSignalHandlers();

  const connector = await startConnector({ settings: config, logger, metrics, health, ...(file ? { configFile: file } : {}) });
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
