import { join } from 'node:path';
import type { PlantSimulator } from '@weir/plant-simulator';
import { metricValue, removeTempDirs, tempDir, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkSeries, collect, seriesOf, settingsFor, startInProcess, startSim, tagIds, writePublishedNodes, type Collected, type InProcessConnector } from './helpers';

// Acceptance: 10,000 nodes from a publishednodes.json; every change the simulator makes arrives in Kafka
// with the right value, status and timestamps.
describe('opcua-connector: 10,000 nodes from publishednodes.json', () => {
  const brokers = inject('kafkaBrokers');
  let sim: PlantSimulator;
  let running: InProcessConnector | undefined;
  let reader: Collected | undefined;

  beforeAll(async () => {
    // 200 machines × (12 + 38) tags = 10,000 tags, about 4,000 changes per second at a 1 s tick.
    sim = await startSim({ plant: { sites: 1, areasPerSite: 1, linesPerArea: 10, machinesPerLine: 20, extraTagsPerMachine: 38 }, alarms: { enabled: false }, limits: { maxMonitoredItemsPerCall: 2500 } });
  });

  afterAll(async () => {
    await running?.connector.stop();
    await reader?.stop();
    await sim?.stop();
    removeTempDirs();
  });

  it('subscribes every node in chunks within the server limits and delivers every change exactly once', async () => {
    const ids = tagIds(sim);
    expect(ids).toHaveLength(10_000);
    const dir = tempDir('pn10k');
    const file = join(dir, 'publishednodes.json');
    writePublishedNodes(file, sim.endpointUrl, ids.map((id) => sim.nodeId(id)));
    const prefix = uniqueTopicPrefix('pn');
    // The server takes at most 2,500 items per call; the connector would take 5,000: its limit must give way.
    const startedAt = Date.now();
    running = await startInProcess(settingsFor({ brokers, prefix, stateDir: dir, sim, opcua: { publishedNodesFile: file, maxItemsPerCall: 5000 } }));
    reader = await collect(brokers, prefix);
    await waitFor(async () => ((await metricValue(running!.metrics, 'weir_opcua_monitored_items', { state: 'ok' })) === 10_000 ? true : undefined), { timeoutMs: 60_000, what: '10,000 monitored items' });
    const readyAt = Date.now();
    const ready = await running.health.report('readiness');
    expect(ready.checks['opcua:sim']).toEqual({ ok: true, detail: '10000 items monitored' });

    // Let it stream for a while, then stop: a graceful stop delivers everything received. On a loaded
    // machine the server may take longer than that to publish every item's first value: wait for them.
    await new Promise((r) => setTimeout(r, 8000));
    await waitFor(() => (new Set(reader!.samples.map((s) => s.nodeId)).size === 10_000 ? true : undefined), { timeoutMs: 120_000, what: 'a first value of every node in Kafka' });
    const until = Date.now() - 3000;
    await running.connector.stop();
    const received = await metricValue(running.metrics, 'weir_opcua_samples_total');
    await waitFor(() => (reader!.samples.length >= received ? true : undefined), { timeoutMs: 60_000, what: `${received} samples in Kafka` });

    expect(reader.invalid).toBe(0);
    expect(new Set(reader.samples.map((s) => s.nodeId)).size).toBe(10_000);
    // Sequence numbers are unique per source: the key a consumer de-duplicates by.
    expect(new Set(reader.samples.map((s) => s.seq)).size).toBe(reader.samples.length);
    const problems: string[] = [];
    for (const id of ids) problems.push(...checkSeries(sim, id, seriesOf(reader.samples, sim.nodeId(id)), until, { from: startedAt, to: readyAt }));
    expect(problems.slice(0, 20)).toEqual([]);
    // Changes, not just initial values: at 1 s per tick the simulator changed thousands of values meanwhile.
    expect(reader.samples.length).toBeGreaterThan(20_000);
    const connected = reader.events.filter((e) => e.kind === 'connection' && e.type === 'connector.connected');
    expect(connected).toHaveLength(1);
  });
});
