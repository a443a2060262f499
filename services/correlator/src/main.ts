import { ConfigError, loadConfig, redact, type LoadedConfig } from '@weir/config';
import { createLogger, GracefulShutdown } from '@weir/observability';
import { correlatorSettingsSchema, type CorrelatorSettings } from './config';
import { CorrelatorApplication } from './correlator.application';

// Bootstrap only: settings are read once here and passed down.

function loadSettings(): LoadedConfig<CorrelatorSettings> | undefined {
  try {
    return loadConfig(correlatorSettingsSchema, { env: process.env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Every bad setting at once; exit code 2 = bad usage or settings.
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 2;
    return undefined;
  }
}

async function main(): Promise<void> {
  const loaded = loadSettings();
  if (!loaded) return;
  const { config, unusedEnv } = loaded;
  const logger = createLogger({ service: 'correlator', level: config.observability.logLevel });
  logger.info({ settings: redact(config), unusedEnv }, 'starting correlator');
  const shutdown = new GracefulShutdown(logger);
  shutdown.installSignalHandlers();
  try {
    const app = new CorrelatorApplication(config, { logger });
    shutdown.add({ name: 'correlator', stop: () => app.stop() });
    await app.start();
  } catch (err) {
    logger.fatal({ err, code: (err as { code?: string }).code }, 'correlator failed to start');
    process.exit(1);
  }
}

void main();
