import { createMetricsRegistry, HealthRegistry, runService, startOpsServer } from '@weir/observability';
import { historianSettingsSchema } from './config';
import { startHistorianConnector } from './connector';

// Bootstrap only: settings are read once here and passed down.
void runService({
  name: 'historian-connector',
  schema: historianSettingsSchema,
  logLevel: (c) => c.logLevel,
  start: async ({ config, logger, shutdown }) => {
    const metrics = createMetricsRegistry('historian-connector');
    const health = new HealthRegistry();
    const connector = await startHistorianConnector({ settings: config, logger, metrics, health });
    shutdown.add({ name: 'connector', stop: () => connector.stop() });
    // The only port the connector opens: loopback by default, GET only, no input.
    const ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, metrics, health, logger });
    shutdown.add({ name: 'ops-server', stop: () => ops.close() });
  },
});
