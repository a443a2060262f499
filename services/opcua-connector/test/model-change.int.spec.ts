import { PLANT_NAMESPACE_URI, type PlantSimulator } from '@weir/plant-simulator';
import { metricValue, removeTempDirs, tempDir, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { DataType, ModelChangeStructureDataType, VariantArrayType, type UAObject } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { collect, settingsFor, startInProcess, startSim } from './helpers';

const M1 = 'Site01.Area01.Line01.Machine01';

describe('opcua-connector: model-change events', () => {
  const brokers = inject('kafkaBrokers');
  let sim: PlantSimulator;

  beforeAll(async () => {
    sim = await startSim({ plant: { linesPerArea: 1, machinesPerLine: 1 }, alarms: { enabled: false } });
  });

  afterAll(async () => {
    await sim?.stop();
    removeTempDirs();
  });

  it('re-browses on a model-change event of the server, with no schedule and no event subscription configured', async () => {
    const prefix = uniqueTopicPrefix('mc');
    const running = await startInProcess(
      settingsFor({
        brokers,
        prefix,
        stateDir: tempDir('model-change'),
        sim,
        sources: [{ id: 'plant', endpointUrl: sim.endpointUrl, securityMode: 'None', securityPolicy: 'None', browse: [{ root: sim.nodeId(M1), maxDepth: 1 }] }],
      }),
    );
    const reader = await collect(brokers, prefix);
    try {
      const initial = sim.model.tags.filter((t) => t.id.startsWith(`${M1}.`)).length;
      await waitFor(async () => ((await metricValue(running.metrics, 'weir_opcua_monitored_items', { state: 'ok' })) === initial ? true : undefined), { timeoutMs: 30_000, what: 'the browsed items' });

      const addressSpace = sim.server.engine.addressSpace!;
      const machine = addressSpace.findNode(sim.nodeId(M1)) as UAObject;
      const added = addressSpace.getNamespace(PLANT_NAMESPACE_URI).addVariable({ componentOf: machine, browseName: 'Torque', nodeId: `s=${M1}.Torque`, dataType: 'Double', value: { dataType: DataType.Double, value: 12.5 } });
      // What a server does when its address space changes (Part 3, 9.32): a GeneralModelChangeEvent from the Server object.
      addressSpace.rootFolder.objects.server.raiseEvent(addressSpace.findEventType('GeneralModelChangeEventType')!, {
        changes: { dataType: DataType.ExtensionObject, arrayType: VariantArrayType.Array, value: [new ModelChangeStructureDataType({ affected: added.nodeId, affectedType: added.typeDefinition, verb: 1 })] },
      });

      const sample = await waitFor(() => reader.samples.find((s) => s.nodeId === sim.nodeId(`${M1}.Torque`)), { timeoutMs: 30_000, what: 'a sample of the added variable' });
      expect(sample).toMatchObject({ value: 12.5, dataType: 'Double', browsePath: 'Torque' });
      expect(await metricValue(running.metrics, 'weir_opcua_monitored_items', { state: 'ok' })).toBe(initial + 1);
      const change = await waitFor(() => reader.events.find((e) => e.kind === 'model-change'), { timeoutMs: 30_000, what: 'the model-change event in Kafka' });
      expect(change).toMatchObject({ sourceId: 'plant', type: 'GeneralModelChangeEventType' });
    } finally {
      await running.connector.stop();
      await reader.stop();
    }
  });
});
