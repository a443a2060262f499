import { runService } from '@weir/observability';
import { itEventsSettingsSchema } from './config';
import { startItEvents } from './it-events';

// Bootstrap only: settings are read once here and passed down.
void runService({
  name: 'it-events',
  schema: itEventsSettingsSchema,
  logLevel: (c) => c.logLevel,
  ops: (c) => ({ host: c.opsHost, port: c.opsPort }),
  start: async ({ config, logger, shutdown, metrics, health }) => {
    const service = await startItEvents(config, { logger, metrics, health });
    shutdown.add({ name: 'it-events', stop: () => service.stop() });
  },
});
