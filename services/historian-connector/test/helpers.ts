import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode, telemetryRawV1, topicName, type TelemetryRawV1 } from '@weir/contracts';
import { createMetricsRegistry, HealthRegistry, type Registry } from '@weir/observability';
import { capturingLogger, freePort, ServiceProcess, waitFor } from '@weir/testing';
import { Kafka, logLevel } from 'kafkajs';
import { stringify } from 'yaml';
import { historianSettingsSchema, startHistorianConnector, type HistorianSettingsInput, type RunningHistorianConnector } from '../src/index';

/** Base settings: Kafka under a prefix, state in `stateDir`, quiet logs, fast retries and progress. */
export function baseSettings(brokers: string[], prefix: string, stateDir: string): HistorianSettingsInput {
  return {
    logLevel: (process.env['WEIR_TEST_LOG_LEVEL'] ?? 'warn') as 'warn',
    opsPort: 0,
    kafka: { brokers, topicPrefix: prefix, clientId: 'historian-test', partitions: 3, replicationFactor: 1 },
    stateDir,
    retryDelay: 200,
    progressInterval: 1000,
  };
}

/** A connector running in this process. */
export interface InProcess {
  connector: RunningHistorianConnector;
  metrics: Registry;
  health: HealthRegistry;
  /** Log records written so far (JSON-parsed). */
  logs: Array<Record<string, unknown>>;
}

/** Starts the connector in this process. */
export async function startInProcess(input: HistorianSettingsInput): Promise<InProcess> {
  const settings = historianSettingsSchema.parse(input);
  const { logger, lines: logs } = capturingLogger('historian-connector', settings.logLevel);
  const metrics = createMetricsRegistry('historian-connector', { defaultMetrics: false });
  const health = new HealthRegistry();
  const connector = await startHistorianConnector({ settings, logger, metrics, health });
  return { connector, metrics, health, logs };
}

/** Consumes `ot.telemetry.raw.v1` of a prefix from the beginning, handing each message to `onMessage`. */
export interface Reader {
  /** Messages seen (including resends). */
  count(): number;
  invalid(): number;
  stop(): Promise<void>;
}

/** Reads the telemetry topic of `prefix` from the beginning; `validate` decodes with the contract (slower), else JSON.parse. */
export async function readTelemetry(brokers: string[], prefix: string, onMessage: (m: TelemetryRawV1) => void, validate = true): Promise<Reader> {
  const kafka = new Kafka({ clientId: 'historian-test-reader', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `reader-${Math.random().toString(36).slice(2)}`, maxWaitTimeInMs: 200, maxBytes: 16 * 1024 * 1024 });
  const topic = topicName(telemetryRawV1, prefix);
  await waitFor(
    async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        return (await admin.listTopics()).includes(topic) ? true : undefined;
      } finally {
        await admin.disconnect();
      }
    },
    { timeoutMs: 60_000, what: 'the connector to provision its topic' },
  );
  let count = 0;
  let invalid = 0;
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        count++;
        if (validate) {
          const d = decode(telemetryRawV1, m.value);
          if (d.ok && d.value) onMessage(d.value);
          else invalid++;
        } else {
          onMessage(JSON.parse(m.value!.toString()) as TelemetryRawV1);
        }
      }
      await Promise.resolve();
    },
  });
  return { count: () => count, invalid: () => invalid, stop: () => consumer.disconnect() };
}

/** Starts the connector as its own process with a YAML settings file, and waits until it serves /health/live. */
export async function spawnConnector(settings: HistorianSettingsInput, dir: string): Promise<ServiceProcess> {
  const opsPort = await freePort();
  const file = join(dir, 'historian.yaml');
  writeFileSync(file, stringify({ ...settings, opsPort }));
  const child = new ServiceProcess({ main: 'services/historian-connector/src/main.ts', opsPort, env: { WEIR_CONFIG_FILE: file } });
  await child.waitUntil('live', 60_000);
  return child;
}
