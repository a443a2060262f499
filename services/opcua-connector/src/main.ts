import { runService } from '@weir/observability';
import { connectorSettingsSchema } from './config';
import { startConnector } from './connector';

// Bootstrap only: settings are read once here and passed down.
void runService({
  name: 'opcua-connector',
  schema: connectorSettingsSchema,
  logLevel: (c) => c.logLevel,
  // The only port the connector opens: loopback by default, GET only, no input.
  ops: (c) => ({ host: c.opsHost, port: c.opsPort }),
  start: async ({ config, logger, shutdown, file, metrics, health }) => {
    const connector = await startConnector({ settings: config, logger, metrics, health, ...(file ? { configFile: file } : {}) });
    shutdown.add({ name: 'connector', stop: () => connector.stop() });
  },
});
