import 'reflect-metadata';
import { createMetricsRegistry, HealthRegistry, runService, startOpsServer } from '@weir/observability';
import { databaseHealthCheck } from '@weir/timescale';
import { startAnalyticsApi } from './analytics-api';
import { analyticsSettingsSchema } from './config';

// Bootstrap only: settings are read once here and injected everywhere else.
void runService({
  name: 'analytics-api',
  schema: analyticsSettingsSchema,
  logLevel: (c) => c.observability.logLevel,
  start: async ({ config, logger, shutdown }) => {
    const registry = createMetricsRegistry('analytics-api');
    const health = new HealthRegistry();
    const api = await startAnalyticsApi(config, { logger, registry });
    shutdown.add({ name: 'api', stop: () => api.close() });
    health.register(databaseHealthCheck(api.pool));
    const obs = config.observability;
    const ops = await startOpsServer({ host: obs.opsHost, port: obs.opsPort, metrics: registry, health, logger });
    shutdown.add({ name: 'ops server', stop: () => ops.close() });
    logger.info({ apiPort: api.port, opsPort: ops.port }, 'analytics-api started');
  },
});
