import { runService } from '@weir/observability';
import { historianSettingsSchema } from './config';
import { startHistorianConnector } from './connector';

// Bootstrap only: settings are read once here and passed down.
void runService({
  name: 'historian-connector',
  schema: historianSettingsSchema,
  logLevel: (c) => c.logLevel,
  // The only port the connector opens: loopback by default, GET only, no input.
  ops: (c) => ({ host: c.opsHost, port: c.opsPort }),
  start: async ({ config, logger, shutdown, metrics, health }) => {
    const connector = await startHistorianConnector({ settings: config, logger, metrics, health });
    shutdown.add({ name: 'connector', stop: () => connector.stop() });
  },
});
