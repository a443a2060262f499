import { loadConfig, redact } from '@weir/config';
import { createLogger, createMetricsRegistry, GracefulShutdown, HealthRegistry, startOpsServer } from '@weir/observability';
import { plantSimulatorSettingsSchema, simulatorOptionsFromSettings } from './config';
import { startPlantSimulator } from './simulator';

async function main(): Promise<void> {
  const { config, unusedEnv, file } = loadConfig(plantSimulatorSettingsSchema, { env: process.env });
  const logger = createLogger({ service: 'plant-simulator', level: config.logLevel });
  logger.info({ config: redact(config), file, unusedEnv }, 'configuration loaded');

  const metrics = createMetricsRegistry('plant-simulator');
  const health = new HealthRegistry();
  const shutdown = new GracefulShutdown(logger);
  shutdown.installSignalHandlers();

  const simulator = await startPlantSimulator({ ...simulatorOptionsFromSettings(config), logger, metrics });
  shutdown.add({ name: 'opcua-server', stop: () => simulator.stop() });
  health.register({
    name: 'ticks',
    kind: 'liveness',
    // The tick loop publishes every tick; a loop stalled for 30 ticks means a wedged process.
    check: () => {
      const lagMs = Date.now() - simulator.stats().lastPublished;
      return { ok: lagMs < 30 * simulator.model.tickMs, detail: `last tick ${lagMs} ms ago` };
    },
  });
  health.register({ name: 'opcua-endpoint', kind: 'readiness', check: () => ({ ok: true, detail: simulator.endpointUrl }) });

  const ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, metrics, health, logger });
  shutdown.add({ name: 'ops-server', stop: () => ops.close() });
}

main().catch((err: unknown) => {
  // The logger may not exist yet (invalid configuration): write the error plainly.
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
