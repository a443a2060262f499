import { createMetricsRegistry, HealthRegistry, runService, startOpsServer } from '@weir/observability';
import { itEventsSettingsSchema } from './config';
import { startItEvents } from './it-events';

// Bootstrap only: settings are read once here and passed down.
void runService({
  name: 'it-events',
  schema: itEventsSettingsSchema,
  logLevel: (c) => c.logLevel,
  start: async ({ config, logger, shutdown }) => {
    const metrics = createMetricsRegistry('it-events');
    const health = new HealthRegistry();
    const service = await startItEvents(config, { logger, metrics, health });
    shutdown.add({ name: 'it-events', stop: () => service.stop() });
    const ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, metrics, health, logger });
    shutdown.add({ name: 'ops-server', stop: () => ops.close() });
  },
});
