import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPlantSimulator, type PlantSimulator } from '@weir/plant-simulator';
import { freePort, removeTempDirs, type ServiceProcess, tempDir, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { baseSettings, readTelemetry, spawnConnector, type Reader } from './helpers';

const HOUR = 3_600_000;
const TAGS = 50;

describe('OPC UA Historical Access backfill (child process, SIGKILL mid-backfill)', () => {
  const brokers = inject('kafkaBrokers');
  let sim: PlantSimulator;
  let tagIds: string[];

  beforeAll(async () => {
    // 4 machines × 60 generic tags: enough tags with a 1 s period (a value nearly every second).
    sim = await startPlantSimulator({
      port: await freePort(),
      stateDir: tempDir('sim'),
      seed: 'historian-test',
      plant: { sites: 1, areasPerSite: 1, linesPerArea: 1, machinesPerLine: 4, extraTagsPerMachine: 60 },
      alarms: { enabled: false },
      security: { autoAcceptUnknownCertificates: true },
    });
    tagIds = sim.model.tags.filter((t) => t.periodMs === 1000 && (t.kind === 'temperature' || t.kind === 'pressure' || t.kind === 'extra')).slice(0, TAGS).map((t) => t.id);
  });

  afterAll(async () => {
    await sim?.stop();
    removeTempDirs();
  });

  it('reads six hours of 50 one-second tags (over a million values) completely into Kafka, resuming after a kill with nothing lost or doubled', async () => {
    expect(tagIds).toHaveLength(TAGS);
    const from = Math.floor(Date.now() / HOUR) * HOUR - 8 * HOUR;
    const to = from + 6 * HOUR;
    const nodeIds = tagIds.map((id) => `nsu=urn:weir:plant-simulator:plant;s=${id}`);

    // Expected values per tag and second of the range (NaN = the simulator has no sample there).
    const seconds = (to - from) / 1000;
    const expected = new Map<string, Float64Array>();
    let expectedCount = 0;
    for (let i = 0; i < TAGS; i++) {
      const arr = new Float64Array(seconds).fill(NaN);
      for (const s of sim.samplesBetween(tagIds[i]!, from + 1, to)) {
        arr[(s.time - from) / 1000 - 1] = s.value as number;
        expectedCount++;
      }
      expected.set(nodeIds[i]!, arr);
    }
    expect(expectedCount).toBeGreaterThan(1_000_000);

    const prefix = uniqueTopicPrefix();
    const stateDir = tempDir('state');
    const certFile = join(stateDir, 'server-cert.der');
    writeFileSync(certFile, sim.certificate);
    const settings = {
      ...baseSettings(brokers, prefix, stateDir),
      opcua: { trustedServerCertificates: [certFile] },
      sources: [
        {
          id: 'sim-ha',
          type: 'opcua' as const,
          endpointUrl: sim.endpointUrl,
          securityMode: 'None' as const,
          securityPolicy: 'None' as const,
          nodes: nodeIds,
          nodesPerCall: 50,
          valuesPerNode: 2000,
          rateLimit: { requestsPerSecond: 0 },
          live: { enabled: true, pollInterval: 1000, delay: 1000 },
        },
      ],
      jobs: [{ id: 'six-hours', source: 'sim-ha', from: new Date(from).toISOString(), to: new Date(to).toISOString() }],
    };

    // What Kafka holds, compactly: per tag and second the sequence number that carried it; resends of one seq are fine (the sink deduplicates by seq).
    const seqAt = new Map(nodeIds.map((n) => [n, new Float64Array(seconds).fill(-1)]));
    const problems: string[] = [];
    let inRange = 0;
    let live = 0;
    let maxJobSeq = -1;
    let minLiveSeq = Number.POSITIVE_INFINITY;

    let reader: Reader | undefined;
    let first: ServiceProcess | undefined;
    let second: ServiceProcess | undefined;
    try {
      first = await spawnConnector(settings, stateDir);
      reader = await readTelemetry(
        brokers,
        prefix,
        (m) => {
          const t = Date.parse(m.sourceTime);
          if (m.sourceId !== 'sim-ha' || m.origin !== 'historian') problems.push(`unexpected source ${m.sourceId}/${m.origin}`);
          if (t > to) {
            live++;
            minLiveSeq = Math.min(minLiveSeq, m.seq);
            return;
          }
          const slots = seqAt.get(m.nodeId);
          const i = (t - from) / 1000 - 1;
          if (!slots || !Number.isInteger(i) || i < 0 || i >= seconds) {
            if (problems.length < 20) problems.push(`sample outside the job: ${m.nodeId} ${m.sourceTime}`);
            return;
          }
          maxJobSeq = Math.max(maxJobSeq, m.seq);
          if (slots[i] === -1) {
            slots[i] = m.seq;
            inRange++;
            const want = expected.get(m.nodeId)![i]!;
            if (m.value !== want && problems.length < 20) problems.push(`${m.nodeId} ${m.sourceTime}: ${String(m.value)} but the simulator has ${want}`);
            if (m.status !== 0 && problems.length < 20) problems.push(`${m.nodeId} ${m.sourceTime}: status ${m.status}`);
          } else if (slots[i] !== m.seq && problems.length < 20) {
            problems.push(`doubled: ${m.nodeId} ${m.sourceTime} carried by seq ${slots[i]} and ${m.seq}`);
          }
        },
        false,
      );
      // Kill it once a good part of the backfill is durable and partly in Kafka.
      // (Timeouts are generous: the shared 2-core machine can be loaded many times over; nothing here measures time.)
      await waitFor(async () => ((await first!.metric('weir_historian_job_progress_ratio', { job: 'six-hours' })) > 0.25 ? true : undefined), { timeoutMs: 600_000, intervalMs: 250, what: 'the backfill to pass a quarter' });
      await first.stop('SIGKILL');
      const beforeRestart = inRange;
      expect(beforeRestart).toBeLessThan(expectedCount);

      second = await spawnConnector(settings, stateDir);
      await waitFor(async () => ((await second!.metric('weir_historian_job_progress_ratio', { job: 'six-hours' })) === 1 ? true : undefined), { timeoutMs: 900_000, what: 'the backfill job to finish' });
      await waitFor(() => (inRange >= expectedCount ? true : undefined), { timeoutMs: 600_000, intervalMs: 500, what: `all ${expectedCount} values in Kafka (have ${inRange})` });
      // Live reading went on meanwhile, ahead of the backfill.
      await waitFor(() => (live > 0 ? true : undefined), { timeoutMs: 30_000, what: 'live samples' });

      const ready = await waitFor(
        async () => {
          const r = await second!.health('ready');
          return r.status === 'ok' ? r : undefined;
        },
        { timeoutMs: 30_000, what: 'readiness' },
      ).catch(() => second!.health('ready'));
      expect(ready).toMatchObject({ status: 'ok' });

      expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    } catch (err) {
      process.stderr.write(`first:\n${first?.output.slice(-3000) ?? ''}\nsecond:\n${second?.output.slice(-6000) ?? ''}\n`);
      throw err;
    } finally {
      await first?.stop('SIGKILL');
      await second?.stop('SIGKILL');
      await reader?.stop();
    }

    expect(problems).toEqual([]);
    expect(reader!.invalid()).toBe(0);
    // Every expected value exactly once (by time), nothing outside the range.
    expect(inRange).toBe(expectedCount);
    let missing = 0;
    for (const [nodeId, slots] of seqAt) {
      const want = expected.get(nodeId)!;
      for (let i = 0; i < seconds; i++) if (Number.isNaN(want[i]!) !== (slots[i] === -1)) missing++;
    }
    expect(missing).toBe(0);
    expect(live).toBeGreaterThan(0);
    expect(minLiveSeq).toBeLessThan(maxJobSeq);
  }, 2_400_000);
});
