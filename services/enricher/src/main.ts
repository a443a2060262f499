import { runService } from '@weir/observability';
import { enricherSettingsSchema } from './config';
import { EnricherApplication } from './enricher.application';

// Bootstrap only: settings are read once here and passed down.
void runService({
  name: 'enricher',
  schema: enricherSettingsSchema,
  logLevel: (c) => c.observability.logLevel,
  start: async ({ config, logger, shutdown }) => {
    const app = new EnricherApplication(config, { logger });
    shutdown.add({ name: 'enricher', stop: () => app.stop() });
    await app.start();
  },
});
