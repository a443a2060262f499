import type { TelemetryRawV1 } from '@weir/contracts';
import type { PlantSimulator } from '@weir/plant-simulator';
import { metricValue, removeTempDirs, tempDir, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { checkSeries, collect, seriesOf, settingsFor, startInProcess, startSim, tagIds, type Collected, type InProcessConnector } from './helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The server samples every tick (1 s) but publishes every 4 s into queues of two: every
// publish, the server drops values and sets the Overflow bit on the oldest one it kept.
// Nothing the server dropped may go missing silently: it is read back from history, or,
// where that is switched off, the interval is recorded as a gap.
function overflowingSource(sim: PlantSimulator, ids: readonly string[]) {
  return { id: 'plant', endpointUrl: sim.endpointUrl, securityMode: 'None', securityPolicy: 'None', defaults: { samplingInterval: 1000, publishingInterval: 4000, queueSize: 2, discardOldest: true }, nodes: ids.map((t) => sim.nodeId(t)), events: [] };
}

describe('opcua-connector: the server queue overflows', () => {
  const brokers = inject('kafkaBrokers');
  let sim: PlantSimulator | undefined;
  let running: InProcessConnector | undefined;
  let reader: Collected | undefined;

  afterEach(async () => {
    await running?.connector.stop();
    running = undefined;
    await reader?.stop();
    reader = undefined;
    await sim?.stop();
    sim = undefined;
  });

  afterAll(() => removeTempDirs());

  /** The tags that change on (almost) every tick: a queue of two overflows on each of them. */
  const busyTags = (s: PlantSimulator) => tagIds(s).filter((id) => /Temperature|Pressure|Speed|EnergyMeter|TotalCount/.test(id));

  it('reads the values the server dropped back from history: every series complete, in order, none twice', async () => {
    sim = await startSim({ plant: { linesPerArea: 1, machinesPerLine: 2, extraTagsPerMachine: 0 }, alarms: { enabled: false } });
    const ids = busyTags(sim);
    expect(ids.length).toBeGreaterThan(4);
    const dir = tempDir('overflow');
    const prefix = uniqueTopicPrefix('ov');
    running = await startInProcess(settingsFor({ brokers, prefix, stateDir: dir, sim, sources: [overflowingSource(sim, ids)] }));
    reader = await collect(brokers, prefix);
    await waitFor(async () => ((await metricValue(running!.metrics, 'weir_opcua_overflows_total')) >= ids.length * 2 ? true : undefined), { timeoutMs: 60_000, what: 'overflows on every node, twice' });
    await waitFor(async () => ((await metricValue(running!.metrics, 'weir_opcua_samples_total', { kind: 'backfill' })) > ids.length ? true : undefined), { timeoutMs: 60_000, what: 'values read back' });
    await sleep(5000);
    const until = Date.now() - 6000;
    await running.connector.stop();
    const produced = await metricValue(running.metrics, 'weir_opcua_samples_total');
    await waitFor(() => (reader!.samples.length >= produced ? true : undefined), { timeoutMs: 30_000, what: `${produced} samples in Kafka` });

    // The spool delivers at least once: a batch whose send failed is sent again with the same sequence numbers
    // (libs/kafka README), and consumers drop such repeats by (sourceId, seq). Judge what they keep: the first copies.
    const seen = new Set<string>();
    const kept = reader.samples.filter((s) => !seen.has(`${s.sourceId}|${s.seq}`) && Boolean(seen.add(`${s.sourceId}|${s.seq}`)));
    const real = kept.filter((s) => !s.heartbeat);
    expect(new Set(real.map((s) => `${s.nodeId}|${s.sourceTime}`)).size).toBe(real.length);
    const problems: string[] = [];
    for (const id of ids) {
      const series = seriesOf(kept, sim.nodeId(id));
      problems.push(...checkSeries(sim, id, series.filter((s) => !hasOverflow(s)), until));
      const arrival = real.filter((s) => s.nodeId === sim!.nodeId(id)).map((s) => s.seq);
      if (arrival.some((seq, i) => i > 0 && seq <= arrival[i - 1]!)) problems.push(`${id}: out of order in Kafka`);
    }
    expect(problems.slice(0, 20)).toEqual([]);
    // Nothing was lost, so nothing is reported lost.
    expect(reader.events.filter((e) => e.kind === 'gap')).toEqual([]);
  });

  it('with backfill off, records every dropped interval as a gap of its node', async () => {
    sim = await startSim({ plant: { linesPerArea: 1, machinesPerLine: 1, extraTagsPerMachine: 0 }, alarms: { enabled: false } });
    const ids = busyTags(sim);
    const dir = tempDir('overflow-gaps');
    const prefix = uniqueTopicPrefix('og');
    running = await startInProcess(settingsFor({ brokers, prefix, stateDir: dir, sim, opcua: { backfill: false }, sources: [overflowingSource(sim, ids)] }));
    reader = await collect(brokers, prefix);
    await waitFor(async () => ((await metricValue(running!.metrics, 'weir_opcua_overflows_total')) >= ids.length * 2 ? true : undefined), { timeoutMs: 60_000, what: 'overflows on every node, twice' });
    await running.connector.stop();
    const produced = await metricValue(running.metrics, 'weir_opcua_samples_total');
    await waitFor(() => (reader!.samples.length >= produced ? true : undefined), { timeoutMs: 30_000, what: `${produced} samples in Kafka` });
    await waitFor(() => (reader!.events.some((e) => e.kind === 'gap') ? true : undefined), { timeoutMs: 30_000, what: 'gap events' });

    // Every value that arrived flagged has a gap ending at it, starting at the value before it, and
    // the simulator really changed the value in between (the gap is not made up).
    const gaps = reader.events.filter((e) => e.kind === 'gap');
    const flagged = reader.samples.filter(hasOverflow);
    expect(flagged.length).toBeGreaterThan(0);
    for (const f of flagged) {
      const series = seriesOf(reader.samples, f.nodeId);
      const before = series[series.findIndex((s) => s.seq === f.seq) - 1];
      if (!before) continue;
      const gap = gaps.find((g) => g.nodeId === f.nodeId && g.gap?.to === f.sourceTime);
      expect(gap, `a gap ending at ${f.nodeId} ${f.sourceTime}`).toBeDefined();
      expect(gap!.gap!.from).toBe(before.sourceTime);
      expect(gap!.gap!.reason).toMatch(/queue overflow/);
      const id = ids.find((t) => sim!.nodeId(t) === f.nodeId)!;
      expect(sim.samplesBetween(id, Date.parse(before.sourceTime) + 1, Date.parse(f.sourceTime) - 1).length).toBeGreaterThan(0);
    }
  });
});

function hasOverflow(s: TelemetryRawV1): boolean {
  return (s.status & 0x480) === 0x480;
}
