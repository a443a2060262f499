import { runService, type ServiceContext } from '@weir/observability';
import { plantSimulatorSettingsSchema, simulatorOptionsFromSettings, type PlantSimulatorSettings } from './config';
import { startPlantSimulator } from './simulator';

async function start({ config, logger, shutdown, metrics, health }: ServiceContext<PlantSimulatorSettings>): Promise<void> {
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
}

// Bootstrap only: settings are read once here and passed down.
void runService({
  name: 'plant-simulator',
  schema: plantSimulatorSettingsSchema,
  logLevel: (c) => c.logLevel,
  ops: (c) => ({ host: c.opsHost, port: c.opsPort }),
  start,
});
