import 'reflect-metadata';
import { runService } from '@weir/observability';
import { databaseHealthCheck } from '@weir/timescale';
import { startAnalyticsApi } from './analytics-api';
import { analyticsSettingsSchema } from './config';

// Bootstrap only: settings are read once here and injected everywhere else.
void runService({
  name: 'analytics-api',
  schema: analyticsSettingsSchema,
  logLevel: (c) => c.observability.logLevel,
  ops: (c) => ({ host: c.observability.opsHost, port: c.observability.opsPort }),
  start: async ({ config, logger, shutdown, metrics, health }) => {
    const api = await startAnalyticsApi(config, { logger, registry: metrics });
    shutdown.add({ name: 'api', stop: () => api.close() });
    health.register(databaseHealthCheck(api.pool));
    logger.info({ apiPort: api.port }, 'analytics-api started');
  },
});
