import type { TelemetryRawV1 } from '@weir/contracts';
import { startPlantSimulator, type PlantSimulator, type PlantSimulatorOptions } from '@weir/plant-simulator';
import { canControlServers, freePort, metricValue, removeTempDirs, type ServiceProcess, startKafka, tempDir, type TestKafka, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { checkSeries, collect, OPERATOR, seriesOf, settingsFor, spawnConnector, startInProcess, tagIds, type Collected, type InProcessConnector } from './helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 2 machines × (12 + 4) tags: every kind of tag, small enough to check every value. */
async function simOptions(): Promise<PlantSimulatorOptions> {
  return { port: await freePort(), stateDir: tempDir('sim'), seed: 'recovery-test', plant: { linesPerArea: 1, machinesPerLine: 2, extraTagsPerMachine: 4 }, alarms: { enabled: false }, security: { users: [OPERATOR], autoAcceptUnknownCertificates: true } };
}

function yamlSource(sim: PlantSimulator, extraNodes: string[] = []) {
  return { id: 'plant', endpointUrl: sim.endpointUrl, securityMode: 'None', securityPolicy: 'None', nodes: [...tagIds(sim).map((t) => sim.nodeId(t)), ...extraNodes], events: [] };
}

/** Every series complete and in order, no value twice (also not under another sequence number). */
function verify(sim: PlantSimulator, samples: readonly TelemetryRawV1[], until: number): void {
  const real = samples.filter((s) => !s.heartbeat);
  expect(new Set(real.map((s) => s.seq)).size).toBe(real.length);
  expect(new Set(real.map((s) => `${s.nodeId}|${s.sourceTime}`)).size).toBe(real.length);
  const problems: string[] = [];
  for (const id of tagIds(sim)) {
    const nodeId = sim.nodeId(id);
    problems.push(...checkSeries(sim, id, seriesOf(samples, nodeId), until));
    // Order per series as consumed (one partition per series): sequence numbers only go up.
    const arrival = real.filter((s) => s.nodeId === nodeId).map((s) => s.seq);
    if (arrival.some((seq, i) => i > 0 && seq <= arrival[i - 1]!)) problems.push(`${id}: out of order in Kafka`);
  }
  expect(problems.slice(0, 20)).toEqual([]);
}

describe('opcua-connector: recovery', () => {
  const brokers = inject('kafkaBrokers');
  let sim: PlantSimulator | undefined;
  let running: InProcessConnector | undefined;
  let child: ServiceProcess | undefined;
  let reader: Collected | undefined;
  let kafka: TestKafka | undefined;

  afterEach(async () => {
    await running?.connector.stop();
    running = undefined;
    await child?.stop('SIGKILL');
    child = undefined;
    await reader?.stop();
    reader = undefined;
    await sim?.stop();
    sim = undefined;
    await kafka?.stop();
    kafka = undefined;
  });

  afterAll(() => removeTempDirs());

  it('after a simulator restart mid-stream, Kafka holds every value the simulator produced (read back from history), none twice', async () => {
    const options = await simOptions();
    sim = await startPlantSimulator(options);
    const dir = tempDir('restart');
    const prefix = uniqueTopicPrefix('rs');
    // Server_ServerStatus_CurrentTime has no history on this server: its missed interval must become a gap.
    running = await startInProcess(settingsFor({ brokers, prefix, stateDir: dir, sim, sources: [yamlSource(sim, ['i=2258'])] }));
    reader = await collect(brokers, prefix);
    await waitFor(async () => ((await metricValue(running!.metrics, 'weir_opcua_samples_total', { kind: 'live' })) > 50 ? true : undefined), { timeoutMs: 30_000, what: 'live samples' });
    await sleep(2000);

    const stoppedAt = Date.now();
    await sim.stop();
    // Down for a while: the model keeps producing values the connector cannot see live.
    await sleep(6000);
    sim = await startPlantSimulator(options);
    const restartedAt = Date.now();
    await waitFor(() => reader!.events.find((e) => e.type === 'connector.reconnected'), { timeoutMs: 60_000, what: 'the reconnection event' });
    await waitFor(async () => ((await metricValue(running!.metrics, 'weir_opcua_samples_total', { kind: 'backfill' })) > 0 ? true : undefined), { timeoutMs: 30_000, what: 'backfilled samples' });
    await sleep(3000);
    const until = Date.now() - 3000;
    await running.connector.stop();
    const produced = await metricValue(running.metrics, 'weir_opcua_samples_total');
    await waitFor(() => (reader!.samples.length >= produced ? true : undefined), { timeoutMs: 30_000, what: `${produced} samples in Kafka` });

    verify(sim, reader.samples, until);
    const gaps = reader.events.filter((e) => e.kind === 'gap');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ sourceId: 'plant', type: 'connector.gap', nodeId: 'i=2258', gap: { reason: expect.stringMatching(/^Bad/) } });
    // The gap covers the outage: it starts before the server went down and ends after it came back.
    expect(Date.parse(gaps[0]!.gap!.from)).toBeLessThan(stoppedAt);
    expect(Date.parse(gaps[0]!.gap!.to)).toBeGreaterThan(restartedAt);
    expect(reader.events.map((e) => e.type)).toEqual(expect.arrayContaining(['connector.connected', 'connector.connection-lost', 'connector.reconnected']));
    expect(await metricValue(running.metrics, 'weir_opcua_reconnects_total')).toBeGreaterThanOrEqual(1);
  });

  it.skipIf(!canControlServers)('with Kafka stopped for 30 s while the simulator runs: nothing lost, order per series kept, no duplicates', async () => {
    kafka = await startKafka();
    sim = await startPlantSimulator(await simOptions());
    const dir = tempDir('kafka-outage');
    const prefix = uniqueTopicPrefix('ko');
    running = await startInProcess(settingsFor({ brokers: kafka.brokers, prefix, stateDir: dir, sim, sources: [yamlSource(sim)] }));
    await waitFor(async () => ((await running!.health.report('readiness')).status === 'ok' ? true : undefined), { timeoutMs: 60_000, what: 'the connector to be ready' });
    await sleep(2000);

    await kafka.outage!.pause();
    const bufferedBefore = await metricValue(running.metrics, 'weir_opcua_samples_total');
    await sleep(30_000);
    // Meanwhile the connector kept reading into the spool.
    expect(await metricValue(running.metrics, 'weir_opcua_samples_total')).toBeGreaterThan(bufferedBefore + 100);
    expect(running.connector.spool.stats().bufferedRecords).toBeGreaterThan(100);
    await kafka.outage!.resume();

    await waitFor(() => (running!.connector.spool.stats().bufferedRecords === 0 ? true : undefined), { timeoutMs: 120_000, what: 'the spool to drain into Kafka' });
    const until = Date.now() - 3000;
    await running.connector.stop();
    const produced = await metricValue(running.metrics, 'weir_opcua_samples_total');
    reader = await collect(kafka.brokers, prefix);
    await waitFor(() => (reader!.samples.length >= produced ? true : undefined), { timeoutMs: 60_000, what: `${produced} samples in Kafka` });
    expect(reader.samples).toHaveLength(produced);
    verify(sim, reader.samples, until);
  });

  it('after a SIGKILL of the connector process and a restart, nothing it had acknowledged is lost, nothing doubled', async () => {
    sim = await startPlantSimulator(await simOptions());
    const dir = tempDir('sigkill');
    const prefix = uniqueTopicPrefix('sk');
    const settings = settingsFor({ brokers, prefix, stateDir: dir, sim, sources: [yamlSource(sim)] });
    child = await spawnConnector(settings, dir);
    reader = await collect(brokers, prefix);
    await child.waitUntil('ready', 60_000);
    await waitFor(() => (reader!.samples.length > 100 ? true : undefined), { timeoutMs: 30_000, what: 'samples from the first process' });
    await sleep(1500);

    expect(await child.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    const beforeKill = reader.samples.length;
    await sleep(4000);
    child = await spawnConnector(settings, dir);
    await waitFor(() => reader!.events.find((e) => e.type === 'connector.connected' && Date.parse(e.time) > Date.now() - 30_000 && reader!.events.filter((x) => x.type === 'connector.connected').length >= 2), { timeoutMs: 60_000, what: 'the second process to connect' });
    await waitFor(() => (reader!.samples.length > beforeKill + 100 ? true : undefined), { timeoutMs: 30_000, what: 'samples from the second process' });
    await sleep(3000);
    const until = Date.now() - 3000;
    expect(await child.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    child = undefined;
    // Everything is in Kafka once the count stops moving (the process flushed its spool before exiting).
    let last = -1;
    await waitFor(async () => {
      const n = reader!.samples.length;
      if (n === last) return true;
      last = n;
      await sleep(1500);
      return undefined;
    }, { timeoutMs: 60_000, what: 'the topic to settle' });

    verify(sim, reader.samples, until);
    // Sequence numbers continue across the crash from what was durable: no number used twice, none skipped.
    const seqs = reader.samples.map((s) => s.seq).sort((a, b) => a - b);
    expect(seqs[0]).toBe(0);
    expect(seqs[seqs.length - 1]).toBe(seqs.length - 1);
  });
});
