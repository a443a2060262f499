import { PLANT_NAMESPACE_URI, type PlantSimulator } from '@weir/plant-simulator';
import { metricValue, removeTempDirs, tempDir, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { DataType, type UAObject, type UAVariable } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { collect, settingsFor, startInProcess, startSim, type Collected, type InProcessConnector } from './helpers';

const M1 = 'Site01.Area01.Line01.Machine01';

describe('opcua-connector: browse discovery and isolation of bad nodes', () => {
  const brokers = inject('kafkaBrokers');
  let sim: PlantSimulator;
  let running: InProcessConnector | undefined;
  let reader: Collected | undefined;

  beforeAll(async () => {
    sim = await startSim({ plant: { linesPerArea: 1, machinesPerLine: 2, extraTagsPerMachine: 2 } });
  });

  afterAll(async () => {
    await running?.connector.stop();
    await reader?.stop();
    await sim?.stop();
    removeTempDirs();
  });

  it('monitors the variables found below a root, applies additions and removals while running, and keeps going past a bad node', async () => {
    const prefix = uniqueTopicPrefix('br');
    const bad = `ns=${sim.namespaceIndex};s=Site01.NoSuchTag`;
    running = await startInProcess(
      settingsFor({
        brokers,
        prefix,
        stateDir: tempDir('browse'),
        sim,
        opcua: { itemRetryInterval: 1000 },
        sources: [
          {
            id: 'plant',
            endpointUrl: sim.endpointUrl,
            securityMode: 'None',
            securityPolicy: 'None',
            nodes: [bad],
            browse: [{ root: `nsu=${PLANT_NAMESPACE_URI};s=Plant`, include: '/Machine01/', rebrowseInterval: 1000 }],
          },
        ],
      }),
    );
    reader = await collect(brokers, prefix);
    const machineTags = sim.model.tags.filter((t) => t.id.startsWith(`${M1}.`)).map((t) => `nsu=${PLANT_NAMESPACE_URI};s=${t.id}`);
    await waitFor(async () => ((await metricValue(running!.metrics, 'weir_opcua_monitored_items', { state: 'ok' })) === machineTags.length ? true : undefined), { timeoutMs: 30_000, what: 'the browsed items' });
    // One bad node is reported (readiness fails, naming it) while every other node streams.
    const check = (await running.health.report('readiness')).checks['opcua:plant'];
    expect(check).toEqual({ ok: false, detail: `1 of ${machineTags.length + 1} items not monitored: ${bad} (BadNodeIdUnknown)` });
    await waitFor(() => (machineTags.every((n) => reader!.samples.some((s) => s.nodeId === n)) ? true : undefined), { timeoutMs: 30_000, what: 'samples of every browsed node' });
    const temperature = reader.samples.find((s) => s.nodeId === `nsu=${PLANT_NAMESPACE_URI};s=${M1}.Temperature`);
    expect(temperature?.browsePath).toBe('Site01/Area01/Line01/Machine01/Temperature');
    expect(reader.samples.some((s) => s.nodeId.includes('Machine02'))).toBe(false);

    // A variable appears in the server's address space: the next browse picks it up.
    const addressSpace = sim.server.engine.addressSpace!;
    const namespace = addressSpace.getNamespace(PLANT_NAMESPACE_URI);
    const machine = addressSpace.findNode(sim.nodeId(M1)) as UAObject;
    const added: UAVariable = namespace.addVariable({ componentOf: machine, browseName: 'Vibration', nodeId: `s=${M1}.Vibration`, dataType: 'Double', value: { dataType: DataType.Double, value: 0.25 } });
    const addedKey = `nsu=${PLANT_NAMESPACE_URI};s=${M1}.Vibration`;
    const first = await waitFor(() => reader!.samples.find((s) => s.nodeId === addedKey), { timeoutMs: 30_000, what: 'a sample of the added variable' });
    expect(first).toMatchObject({ value: 0.25, dataType: 'Double', browsePath: 'Site01/Area01/Line01/Machine01/Vibration' });
    expect(await metricValue(running.metrics, 'weir_opcua_monitored_items', { state: 'ok' })).toBe(machineTags.length + 1);

    // And when it disappears, its item is deleted without a restart.
    addressSpace.deleteNode(added);
    await waitFor(async () => ((await metricValue(running!.metrics, 'weir_opcua_monitored_items', { state: 'ok' })) === machineTags.length ? true : undefined), { timeoutMs: 30_000, what: 'the removed item to go' });
    expect(reader.events.filter((e) => e.type === 'connector.connected')).toHaveLength(1);
  });

  it('repeats the last value of a node that does not change as a heartbeat, stamped with the heartbeat time', async () => {
    const prefix = uniqueTopicPrefix('hb');
    const nodeId = sim.nodeId(`${M1}.IdealCycleTime`);
    const hb = await startInProcess(settingsFor({ brokers, prefix, stateDir: tempDir('heartbeat'), sim, sources: [{ id: 'plant-hb', endpointUrl: sim.endpointUrl, securityMode: 'None', securityPolicy: 'None', nodes: [{ nodeId, heartbeatInterval: '1s' }] }] }));
    const r = await collect(brokers, prefix);
    try {
      const beats = await waitFor(() => {
        const list = r.samples.filter((s) => s.nodeId === nodeId && s.heartbeat);
        return list.length >= 2 ? list : undefined;
      }, { timeoutMs: 30_000, what: 'two heartbeats' });
      const original = r.samples.find((s) => s.nodeId === nodeId && !s.heartbeat)!;
      expect(original.value).toBe(sim.valueAt(`${M1}.IdealCycleTime`, Date.now()).value);
      for (const b of beats) expect(b).toMatchObject({ value: original.value, status: 0, heartbeat: true });
      expect(Date.parse(beats[0]!.sourceTime)).toBeGreaterThan(Date.parse(original.sourceTime));
      expect(Date.parse(beats[1]!.sourceTime)).toBeGreaterThan(Date.parse(beats[0]!.sourceTime));
    } finally {
      await hb.connector.stop();
      await r.stop();
    }
  });
});
