import { runService } from '@weir/observability';
import { erpSyncSettingsSchema } from './config';
import { startErpSync } from './erp-sync';

// Bootstrap only: settings are read once here and passed down.
void runService({
  name: 'erp-sync',
  schema: erpSyncSettingsSchema,
  logLevel: (c) => c.logLevel,
  ops: (c) => ({ host: c.opsHost, port: c.opsPort }),
  start: async ({ config, logger, shutdown, metrics, health }) => {
    const sync = await startErpSync(config, { logger, metrics, health });
    shutdown.add({ name: 'erp-sync', stop: () => sync.stop() });
  },
});
