import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decode, telemetryRawV1, topicName, type TelemetryRawV1 } from '@weir/contracts';
import { createMetricsRegistry, HealthRegistry, type Registry } from '@weir/observability';
import { capturingLogger, freePort, waitFor } from '@weir/testing';
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

/** The sum of a metric in a Prometheus text page (all label sets containing `labelText`). */
export function scrape(text: string, name: string, labelText = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (labelText && !rest.includes(labelText)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
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

/** The connector as a child process (`node --import tsx src/main.ts`) with a YAML settings file. */
export interface ChildConnector {
  process: ChildProcess;
  opsPort: number;
  exited: Promise<number | null>;
  output(): string;
  metrics(): Promise<string>;
}

/** Starts the connector as a child process and waits until its health endpoint answers. */
export async function spawnConnector(settings: HistorianSettingsInput, dir: string): Promise<ChildConnector> {
  const opsPort = await freePort();
  const file = join(dir, 'historian.yaml');
  writeFileSync(file, stringify({ ...settings, opsPort }));
  const root = resolve(__dirname, '../../..');
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'services/historian-connector/src/main.ts')], {
    cwd: root,
    env: { ...process.env, WEIR_CONFIG_FILE: file, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer): void => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`connector exited with ${child.exitCode}: ${out.slice(-2000)}`);
      try {
        const res = await fetch(`http://127.0.0.1:${opsPort}/health/live`);
        return res.ok ? true : undefined;
      } catch {
        return undefined;
      }
    },
    { timeoutMs: 60_000, what: 'the connector process to serve /health/live' },
  );
  return {
    process: child,
    opsPort,
    exited,
    output: () => out,
    // A process being killed or still starting answers nothing: an empty page, the caller waits on.
    metrics: async () => fetch(`http://127.0.0.1:${opsPort}/metrics`).then((r) => r.text(), () => ''),
  };
}
