import { createMetricsRegistry, HealthRegistry, runService, startOpsServer } from '@weir/observability';
import { connectorSettingsSchema } from './config';
import { startConnector } from './connector';

// Bootstrap only: settings are read once here and passed down.
void runService({
  name: 'opcua-connector',
  schema: connectorSettingsSchema,
  logLevel: (c) => c.logLevel,
  start: async ({ config, logger, shutdown, file }) => {
    const metrics = createMetricsRegistry('opcua-connector');
    const health = new HealthRegistry();
    const connector = await startConnector({ settings: config, logger, metrics, health, ...(file ? { configFile: file } : {}) });
    shutdown.add({ name: 'connector', stop: () => connector.stop() });
    // The only port the connector opens: loopback by default, GET only, no input.
    const ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, metrics, health, logger });
    shutdown.add({ name: 'ops-server', stop: () => ops.close() });
  },
});
