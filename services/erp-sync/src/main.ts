import { createMetricsRegistry, HealthRegistry, runService, startOpsServer } from '@weir/observability';
import { erpSyncSettingsSchema } from './config';
import { startErpSync } from './erp-sync';

// Bootstrap only: settings are read once here and passed down.
void runService({
  name: 'erp-sync',
  schema: erpSyncSettingsSchema,
  logLevel: (c) => c.logLevel,
  start: async ({ config, logger, shutdown }) => {
    const metrics = createMetricsRegistry('erp-sync');
    const health = new HealthRegistry();
    const sync = await startErpSync(config, { logger, metrics, health });
    shutdown.add({ name: 'erp-sync', stop: () => sync.stop() });
    const ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, metrics, health, logger });
    shutdown.add({ name: 'ops-server', stop: () => ops.close() });
  },
});
