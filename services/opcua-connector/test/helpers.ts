import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode, otEventsV1, telemetryRawV1, topicName, type OtEventV1, type TelemetryRawV1 } from '@weir/contracts';
import { createLogger, createMetricsRegistry, HealthRegistry, type Registry } from '@weir/observability';
import { startPlantSimulator, type PlantSimulator, type PlantSimulatorOptions } from '@weir/plant-simulator';
import { freePort, ServiceProcess, tempDir, waitFor } from '@weir/testing';
import { Kafka, logLevel } from 'kafkajs';
import { stringify } from 'yaml';
import { connectorSettingsSchema, startConnector, type ConnectorSettingsInput, type RunningConnector } from '../src/index';

/** Test users of the simulator. */
export const OPERATOR = { username: 'operator', password: 'operator-secret' };

/** A simulator on a free loopback port with a temp state folder; unknown client certificates accepted unless told otherwise. */
export async function startSim(options: PlantSimulatorOptions = {}): Promise<PlantSimulator> {
  return startPlantSimulator({
    port: await freePort(),
    stateDir: tempDir('sim'),
    seed: 'connector-test',
    ...options,
    security: { users: [OPERATOR], autoAcceptUnknownCertificates: true, ...options.security },
  });
}

/** The tag ids (`Site01.Area01.Line01.Machine01.Temperature`) of a simulator. */
export function tagIds(sim: PlantSimulator): string[] {
  return sim.model.tags.map((t) => t.id);
}

/** Settings for a connector writing to `brokers` under `prefix`, state in `stateDir`, trusting the simulator's certificate. */
export function settingsFor(options: { brokers: string[]; prefix: string; stateDir: string; sim?: PlantSimulator; opcua?: Record<string, unknown>; sources?: unknown[] }): ConnectorSettingsInput {
  const trusted: string[] = [];
  if (options.sim) {
    const file = join(options.stateDir, 'server-cert.der');
    writeFileSync(file, options.sim.certificate);
    trusted.push(file);
  }
  return {
    logLevel: (process.env['WEIR_TEST_LOG_LEVEL'] ?? 'warn') as 'warn',
    opsPort: 0,
    kafka: { brokers: options.brokers, topicPrefix: options.prefix, clientId: 'opcua-connector-test', partitions: 3, replicationFactor: 1 },
    stateDir: options.stateDir,
    opcua: { trustedServerCertificates: trusted, reconnectDelay: 200, reconnectMaxDelay: 1000, backfillMargin: 10_000, ...options.opcua },
    sources: (options.sources ?? []) as never,
  };
}

/** A connector running in this process. */
export interface InProcessConnector {
  connector: RunningConnector;
  metrics: Registry;
  health: HealthRegistry;
}

/** Starts the connector in this process. */
export async function startInProcess(input: ConnectorSettingsInput): Promise<InProcessConnector> {
  const settings = connectorSettingsSchema.parse(input);
  const logger = createLogger({ service: 'opcua-connector', level: settings.logLevel });
  const metrics = createMetricsRegistry('opcua-connector', { defaultMetrics: false });
  const health = new HealthRegistry();
  const connector = await startConnector({ settings, logger, metrics, health });
  return { connector, metrics, health };
}

/** Everything on the connector's two topics under a prefix, read from the beginning. */
export interface Collected {
  samples: TelemetryRawV1[];
  events: OtEventV1[];
  /** Messages that failed to decode (there must be none). */
  invalid: number;
  stop(): Promise<void>;
}

/** Reads both topics of `prefix` from the beginning with a fresh group until stopped. */
export async function collect(brokers: string[], prefix: string): Promise<Collected> {
  const kafka = new Kafka({ clientId: 'opcua-test-reader', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `reader-${Math.random().toString(36).slice(2)}`, maxWaitTimeInMs: 200 });
  const out: Collected = { samples: [], events: [], invalid: 0, stop: async () => consumer.disconnect() };
  await consumer.connect();
  const telemetry = topicName(telemetryRawV1, prefix);
  const events = topicName(otEventsV1, prefix);
  await waitFor(
    async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const topics = await admin.listTopics();
        return topics.includes(telemetry) && topics.includes(events) ? true : undefined;
      } finally {
        await admin.disconnect();
      }
    },
    { timeoutMs: 60_000, what: 'the connector to provision its topics' },
  );
  await consumer.subscribe({ topics: [telemetry, events], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        if (batch.topic === telemetry) {
          const d = decode(telemetryRawV1, m.value);
          if (d.ok && d.value) out.samples.push(d.value);
          else out.invalid++;
        } else {
          const d = decode(otEventsV1, m.value);
          if (d.ok && d.value) out.events.push(d.value);
          else out.invalid++;
        }
      }
    },
  });
  return out;
}

/** Live and backfilled samples (not heartbeats) of one node, ordered by sequence number. */
export function seriesOf(samples: readonly TelemetryRawV1[], nodeId: string): TelemetryRawV1[] {
  return samples.filter((s) => s.nodeId === nodeId && !s.heartbeat).sort((a, b) => a.seq - b.seq);
}

/**
 * Checks one series against the simulator: the first sample is the value in
 * effect at its time, and after it every sample the simulator produced up
 * to `until` is there exactly once, in order, with value, status Good and
 * source time — nothing missing, nothing doubled. Returns problems (empty = ok).
 */
export function checkSeries(sim: PlantSimulator, tagId: string, series: readonly TelemetryRawV1[], until: number, subscribed?: { from: number; to: number }): string[] {
  if (series.length === 0) return [`${tagId}: no samples`];
  const got = series.map((s) => ({ time: Date.parse(s.sourceTime), value: s.value }));
  const first = got[0]!;
  const problems: string[] = [];
  // The first sample is the value in effect when the item was created, some time in [from, to].
  if (subscribed && (first.time < sim.valueAt(tagId, subscribed.from).time || first.time > subscribed.to)) problems.push(`${tagId}: first sample at ${new Date(first.time).toISOString()} is not the value in effect when subscribed`);
  const expectedFirst = sim.valueAt(tagId, first.time);
  if (expectedFirst.time !== first.time || expectedFirst.value !== first.value) problems.push(`${tagId}: first sample ${JSON.stringify(first)} but the simulator had ${JSON.stringify(expectedFirst)}`);
  const expected = sim.samplesBetween(tagId, first.time + 1, until);
  const rest = got.slice(1).filter((s) => s.time <= until);
  if (rest.length !== expected.length || rest.some((s, i) => s.time !== expected[i]!.time || s.value !== expected[i]!.value)) {
    const gotTimes = new Set(rest.map((s) => s.time));
    const missing = expected.filter((e) => !gotTimes.has(e.time)).length;
    problems.push(`${tagId}: ${rest.length} samples after the first, expected ${expected.length} (${missing} missing, ${rest.length - (expected.length - missing)} extra or doubled)`);
  }
  for (const s of series) {
    if (s.status !== 0) problems.push(`${tagId}: status ${s.status} at ${s.sourceTime}`);
    if (!s.serverTime) problems.push(`${tagId}: no server time at ${s.sourceTime}`);
  }
  return problems;
}

/** Writes a publishednodes.json for the given node ids (every change, 1 s publishing, queue 10). */
export function writePublishedNodes(file: string, endpointUrl: string, nodeIds: readonly string[], extra: Record<string, unknown> = {}): void {
  const entry = { EndpointUrl: endpointUrl, UseSecurity: false, DataSetWriterGroup: 'sim', OpcNodes: nodeIds.map((Id) => ({ Id, OpcSamplingInterval: 0, OpcPublishingInterval: 1000, QueueSize: 10 })), ...extra };
  writeFileSync(file, JSON.stringify([entry], null, 1));
}

/** Starts the connector as its own process with a YAML settings file, and waits until it serves /health/live. */
export async function spawnConnector(settings: ConnectorSettingsInput, dir: string): Promise<ServiceProcess> {
  const opsPort = await freePort();
  const file = join(dir, 'connector.yaml');
  writeFileSync(file, stringify({ ...settings, opsPort }));
  const child = new ServiceProcess({ main: 'services/opcua-connector/src/main.ts', opsPort, env: { WEIR_CONFIG_FILE: file } });
  await child.waitUntil('live', 60_000);
  return child;
}
