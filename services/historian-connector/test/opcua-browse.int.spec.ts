import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TelemetryRawV1 } from '@weir/contracts';
import { PLANT_NAMESPACE_URI, startPlantSimulator, type PlantSimulator } from '@weir/plant-simulator';
import { freePort, metricValue, removeTempDirs, tempDir, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { baseSettings, readTelemetry, startInProcess, type InProcess } from './helpers';

const MINUTE = 60_000;
const LINE = 'Site01.Area01.Line01';
const nsu = (id: string): string => `nsu=${PLANT_NAMESPACE_URI};s=${id}`;

describe('OPC UA Historical Access of a browsed subtree', () => {
  const brokers = inject('kafkaBrokers');
  let sim: PlantSimulator;
  let c: InProcess | undefined;

  beforeAll(async () => {
    // Two lines of two machines: the browse root is one line, so the other line's tags must stay out.
    sim = await startPlantSimulator({
      port: await freePort(),
      stateDir: tempDir('sim'),
      seed: 'historian-browse',
      plant: { sites: 1, areasPerSite: 1, linesPerArea: 2, machinesPerLine: 2, extraTagsPerMachine: 3 },
      alarms: { enabled: true },
      security: { autoAcceptUnknownCertificates: true },
    });
  });

  afterAll(async () => {
    await c?.connector.stop();
    await sim?.stop();
    removeTempDirs();
  });

  it('discovers the variables below the root (exclude applied, alarms skipped) and reads their history completely, with browse paths', async () => {
    // The tags the browse must find: every variable of the line's machines except the excluded setpoints.
    const wanted = sim.model.tags.filter((t) => t.id.startsWith(`${LINE}.`) && !t.name.endsWith('Setpoint'));
    const others = sim.model.tags.filter((t) => !t.id.startsWith(`${LINE}.`));
    expect(wanted.length).toBe(2 * (12 - 2 + 3));
    expect(others.length).toBeGreaterThan(0);

    const from = Math.floor(Date.now() / MINUTE) * MINUTE - 40 * MINUTE;
    const to = from + 30 * MINUTE;
    // Expected (node, source time) → value from the model: what HistoryRead serves for (from, to].
    const expected = new Map<string, string | number>();
    for (const t of wanted) for (const s of sim.samplesBetween(t.id, from + 1, to)) expected.set(`${nsu(t.id)}|${s.time}`, s.value);
    expect(expected.size).toBeGreaterThan(10_000);

    const prefix = uniqueTopicPrefix();
    const stateDir = tempDir('state');
    const certFile = join(stateDir, 'server-cert.der');
    writeFileSync(certFile, sim.certificate);
    c = await startInProcess({
      ...baseSettings(brokers, prefix, stateDir),
      opcua: { trustedServerCertificates: [certFile] },
      sources: [
        {
          id: 'sim-browse',
          type: 'opcua' as const,
          endpointUrl: sim.endpointUrl,
          securityMode: 'None' as const,
          securityPolicy: 'None' as const,
          browse: [{ root: nsu(LINE), exclude: 'Setpoint$' }],
          // Small answers: many continuation points per tag.
          valuesPerNode: 500,
          rateLimit: { requestsPerSecond: 0 },
          live: { enabled: false },
        },
      ],
      jobs: [{ id: 'browsed', source: 'sim-browse', from: new Date(from).toISOString(), to: new Date(to).toISOString() }],
    });

    const got = new Map<string, TelemetryRawV1>();
    const problems: string[] = [];
    const reader = await readTelemetry(brokers, prefix, (m) => {
      const k = `${m.nodeId}|${Date.parse(m.sourceTime)}`;
      const before = got.get(k);
      // A resend of the same seq is fine (the sink deduplicates on it); a second seq for one value is not.
      if (before && before.seq !== m.seq && problems.length < 20) problems.push(`doubled: ${k} seq ${before.seq} and ${m.seq}`);
      got.set(k, m);
    });
    try {
      await waitFor(async () => ((await metricValue(c!.metrics, 'weir_historian_job_progress_ratio', { job: 'browsed' })) === 1 ? true : undefined), { timeoutMs: 300_000, what: 'the job to finish' });
      await c.connector.spool.flush();
      await waitFor(() => (got.size >= expected.size ? true : undefined), { timeoutMs: 120_000, what: `${expected.size} values in Kafka (have ${got.size})` });
    } finally {
      await reader.stop();
    }

    expect(reader.invalid()).toBe(0);
    expect(problems).toEqual([]);
    expect(await metricValue(c.metrics, 'weir_historian_tags', { source: 'sim-browse' })).toBe(wanted.length);
    expect(await metricValue(c.metrics, 'weir_historian_bad_input_total', { source: 'sim-browse' })).toBe(0);
    // Exactly the expected values: none missing, none from outside the subtree or the range, values equal to the model's.
    const extra = [...got.keys()].filter((k) => !expected.has(k));
    expect(extra.slice(0, 10)).toEqual([]);
    const wrong: string[] = [];
    for (const [k, v] of expected) {
      const m = got.get(k);
      if (!m || m.value !== v || m.status !== 0) wrong.push(`${k}: ${m ? `${String(m.value)} (status ${m.status})` : 'missing'}, model ${v}`);
    }
    expect(wrong.slice(0, 10)).toEqual([]);
    // Browsed samples carry their path below the root; nodeIds keep the root's nsu= form.
    const temperature = got.get([...got.keys()].find((k) => k.startsWith(nsu(`${LINE}.Machine02.Temperature|`)))!)!;
    expect(temperature.browsePath).toBe('Machine02/Temperature');
    expect([...got.values()].every((m) => m.sourceId === 'sim-browse' && m.origin === 'historian' && m.browsePath !== undefined)).toBe(true);
  });
});
