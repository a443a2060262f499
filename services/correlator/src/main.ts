import { runService } from '@weir/observability';
import { correlatorSettingsSchema } from './config';
import { CorrelatorApplication } from './correlator.application';

// Bootstrap only: settings are read once here and passed down.
void runService({
  name: 'correlator',
  schema: correlatorSettingsSchema,
  logLevel: (c) => c.observability.logLevel,
  start: async ({ config, logger, shutdown }) => {
    const app = new CorrelatorApplication(config, { logger });
    shutdown.add({ name: 'correlator', stop: () => app.stop() });
    await app.start();
  },
});
