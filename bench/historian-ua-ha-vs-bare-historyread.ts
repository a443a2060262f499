/**
 * The historian connector's OPC UA Historical Access source into Kafka vs a bare node-opcua
 * client doing HistoryRead (raw) with continuation points over the same nodes and range,
 * without Kafka, side by side.
 *
 * Workload: the plant simulator (services/plant-simulator, its own process, so neither side
 * shares its CPU) with BENCH_TAGS (default 100) tags = machines × (12 standard + 38 extra), tick
 * 1 s; its history is computed from the seed for any range. Both sides read the raw history of
 * every tag over the same BENCH_HOURS (default 1) hours ending an hour ago, (from, to], security
 * None, anonymous.
 *
 * Ours (the key's numerator): startHistorianConnector in this process with one OPC UA source
 * whose reading settings are the defaults (nodesPerCall, valuesPerNode, window, rate limit) and
 * one backfill job over the range; live reading off (a backfill); a fresh state folder (spool
 * with fsync batch, checkpoints) and a fresh topic per run (3 partitions, acks=all). Timed from
 * the start of the connector (connect, session, namespace lookup included) until the job is
 * finished and the spool is flushed (Kafka acknowledged every value).
 * Baseline (the key's denominator): a bare node-opcua client in this process: connect, session,
 * namespace array, then HistoryRead with ReadRawModifiedDetails over the same nodes, the same
 * nodes per call and values per node as ours, following continuation points until every node is
 * done, counting the values; nothing else. Timed from connect to the last answer.
 *
 * Correctness in every run: the values counted (baseline) and the topic's end offsets (ours:
 * every value arrived, none twice) must equal what the simulator's model holds for the tags in
 * (from, to].
 *
 * Run: npx tsx bench/historian-ua-ha-vs-bare-historyread.ts   (env: WEIR_TEST_KAFKA_BROKERS to
 * use an existing broker; BENCH_PAIRS (5), BENCH_WARMUP (1), BENCH_TAGS, BENCH_HOURS to change
 * the run)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { telemetryRawV1, topicName } from '@weir/contracts';
import { createKafkaClient, kafkaSettingsSchema } from '@weir/kafka';
import { createLogger, createMetricsRegistry, HealthRegistry } from '@weir/observability';
import { PlantModel, PLANT_NAMESPACE_URI } from '@weir/plant-simulator';
import { freePort, metricValue, startKafka, uniqueTopicPrefix } from '@weir/testing';
import type { Admin } from 'kafkajs';
import { HistoryReadRequest, MessageSecurityMode, OPCUAClient, ReadRawModifiedDetails, SecurityPolicy, TimestampsToReturn, type HistoryData } from 'node-opcua';
import { historianSettingsSchema, opcuaSourceSchema, startHistorianConnector } from '../services/historian-connector/src/index';
import { compare, cpuPerMillion, environment, measure, median, packageVersion, rate, recordResult, type RunMeasure } from './lib/harness';
import { waitForSimulator } from './lib/opcua';

const KEY = 'historian.ua-ha-vs-bare-historyread';
const COMMAND = 'npx tsx bench/historian-ua-ha-vs-bare-historyread.ts';
const ROOT = resolve(__dirname, '..');
const TAGS = Number(process.env['BENCH_TAGS'] ?? 100);
const HOURS = Number(process.env['BENCH_HOURS'] ?? 1);
const PAIRS = Number(process.env['BENCH_PAIRS'] ?? 5);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 1);
const PARTITIONS = 3;
const SEED = 'bench-historian';
const TICK_MS = 1000;
const EXTRA_TAGS = 38;
const MACHINES = Math.max(1, Math.round(TAGS / (12 + EXTRA_TAGS)));
const SHAPE = { sites: 1, areasPerSite: 1, linesPerArea: Math.max(1, Math.ceil(MACHINES / 10)), machinesPerLine: Math.min(10, MACHINES), extraTagsPerMachine: EXTRA_TAGS };
const HOUR = 3_600_000;

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));
}

/** The baseline: plain node-opcua HistoryRead (raw) of `tagIds` in (from, to], continuation points followed; returns the values counted. */
async function bareHistoryRead(endpointUrl: string, tagIds: readonly string[], from: number, to: number, perCall: number, valuesPerNode: number): Promise<number> {
  const client = OPCUAClient.create({ applicationName: 'bench-bare-history', securityMode: MessageSecurityMode.None, securityPolicy: SecurityPolicy.None, endpointMustExist: false, connectionStrategy: { maxRetry: 3, initialDelay: 200, maxDelay: 1000 } });
  await client.connect(endpointUrl);
  let values = 0;
  try {
    const session = await client.createSession();
    try {
      const ns = ((await session.readNamespaceArray()) as string[]).indexOf(PLANT_NAMESPACE_URI);
      // (from, to]: the server's raw read includes both ends, so start a millisecond later.
      const details = new ReadRawModifiedDetails({ isReadModified: false, startTime: new Date(from + 1), endTime: new Date(to), numValuesPerNode: valuesPerNode, returnBounds: false });
      for (let i = 0; i < tagIds.length; i += perCall) {
        let pending: Array<{ nodeId: string; continuationPoint?: Buffer }> = tagIds.slice(i, i + perCall).map((id) => ({ nodeId: `ns=${ns};s=${id}` }));
        while (pending.length > 0) {
          const response = await session.historyRead(new HistoryReadRequest({ historyReadDetails: details, nodesToRead: pending, timestampsToReturn: TimestampsToReturn.Both, releaseContinuationPoints: false }));
          const next: typeof pending = [];
          (response.results ?? []).forEach((r, j) => {
            if (r.statusCode.isBad()) throw new Error(`HistoryRead of ${pending[j]!.nodeId}: ${r.statusCode.name}`);
            values += (r.historyData as HistoryData | null)?.dataValues?.length ?? 0;
            if (r.continuationPoint && r.continuationPoint.length > 0) next.push({ nodeId: pending[j]!.nodeId, continuationPoint: r.continuationPoint });
          });
          pending = next;
        }
      }
    } finally {
      await session.close(true).catch(() => undefined);
    }
  } finally {
    await client.disconnect();
  }
  return values;
}

async function main(): Promise<void> {
  process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';
  process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  // The machine is shared: the load around the run says how far wall-clock rates can be trusted.
  const loadAtStart = loadavg()[0]!;
  const work = mkdtempSync(join(tmpdir(), 'weir-bench-hist-ua-'));
  const model = new PlantModel({ seed: SEED, tickMs: TICK_MS, shape: SHAPE });
  const tagIds = model.tags.map((t) => t.id);
  const to = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
  const from = to - HOURS * HOUR;
  const expected = tagIds.reduce((n, id) => n + model.samplesBetween(id, from + 1, to).length, 0);
  log(`workload: ${tagIds.length} tags, ${HOURS} h, ${expected.toLocaleString('en')} values`);

  // The simulator in its own process: its history computation is not counted on either side.
  const simPort = await freePort();
  const sim = spawn(process.execPath, ['--import', 'tsx', 'services/plant-simulator/src/main.ts'], {
    cwd: ROOT,
    // NODE_OPTIONS cleared: a tsx parent would pass its signal-relaying preflight down to the child.
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      WEIR_LOG_LEVEL: 'warn',
      WEIR_OPS_PORT: String(await freePort()),
      WEIR_OPCUA__PORT: String(simPort),
      WEIR_STATE_DIR: join(work, 'sim'),
      WEIR_MODEL__SEED: SEED,
      WEIR_MODEL__TICK: `${TICK_MS}ms`,
      WEIR_PLANT__SITES: String(SHAPE.sites),
      WEIR_PLANT__AREAS_PER_SITE: String(SHAPE.areasPerSite),
      WEIR_PLANT__LINES_PER_AREA: String(SHAPE.linesPerArea),
      WEIR_PLANT__MACHINES_PER_LINE: String(SHAPE.machinesPerLine),
      WEIR_PLANT__EXTRA_TAGS_PER_MACHINE: String(SHAPE.extraTagsPerMachine),
      WEIR_PLANT__ALARMS: 'false',
      WEIR_SECURITY__AUTO_ACCEPT_UNKNOWN_CERTIFICATES: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let simOut = '';
  const keep = (d: Buffer): void => void (simOut = (simOut + d.toString()).slice(-4000));
  sim.stdout?.on('data', keep);
  sim.stderr?.on('data', keep);
  const endpointUrl = `opc.tcp://127.0.0.1:${simPort}`;
  const broker = await startKafka();
  const logger = createLogger({ service: 'bench', level: 'warn' });
  const kafka = createKafkaClient(kafkaSettingsSchema.parse({ brokers: broker.brokers, clientId: 'bench-historian-ua' }), logger);
  const admin: Admin = kafka.admin();
  await admin.connect();
  // The reading settings ours runs with: the source defaults; the baseline asks for the same.
  const defaults = opcuaSourceSchema.parse({ id: 'bench-ua', type: 'opcua', endpointUrl, nodes: ['ns=1;s=x'] });
  const failures: string[] = [];
  let run = 0;

  try {
    await waitForSimulator(sim, endpointUrl, () => simOut);

    const ours = async (): Promise<RunMeasure> => {
      const prefix = uniqueTopicPrefix('bench-hua');
      const dir = join(work, `run-${++run}`);
      mkdirSync(dir, { recursive: true });
      const settings = historianSettingsSchema.parse({
        logLevel: 'warn',
        opsPort: 0,
        kafka: { brokers: broker.brokers, topicPrefix: prefix, clientId: 'bench-historian-ua', partitions: PARTITIONS, replicationFactor: 1 },
        stateDir: join(dir, 'state'),
        opcua: { acceptUnknownServerCertificates: true },
        sources: [{ id: 'bench-ua', type: 'opcua', endpointUrl, securityMode: 'None', securityPolicy: 'None', nodes: tagIds.map((id) => `nsu=${PLANT_NAMESPACE_URI};s=${id}`), live: { enabled: false } }],
        jobs: [{ id: 'bench-backfill', source: 'bench-ua', from, to }],
      });
      const metrics = createMetricsRegistry('historian-connector', { defaultMetrics: false });
      let stop: (() => Promise<void>) | undefined;
      try {
        const m = await measure(async () => {
          const connector = await startHistorianConnector({ settings, logger, metrics, health: new HealthRegistry() });
          stop = () => connector.stop();
          const deadline = Date.now() + 1_800_000;
          while ((await metricValue(metrics, 'weir_historian_job_progress_ratio', { job: 'bench-backfill' })) < 1) {
            if (Date.now() > deadline) throw new Error('BENCH.STUCK: not finished after 30 min');
            await new Promise((r) => setTimeout(r, 20));
          }
          await connector.spool.flush();
          return metricValue(metrics, 'weir_historian_samples_total', { source: 'bench-ua' });
        });
        const inKafka = (await admin.fetchTopicOffsets(topicName(telemetryRawV1, prefix))).reduce((a, o) => a + Number(o.high), 0);
        const failed = await metricValue(metrics, 'weir_historian_bad_input_total', { source: 'bench-ua' });
        log(`  ours: ${inKafka} values in Kafka, ${m.items} samples counted, model ${expected}, ${failed} failed reads`);
        if (inKafka !== expected || m.items !== expected) failures.push(`ours run ${run}: ${inKafka} in Kafka, ${m.items} counted, model ${expected}`);
        return m;
      } finally {
        await stop?.();
        rmSync(dir, { recursive: true, force: true });
      }
    };

    const baseline = async (): Promise<RunMeasure> => {
      const m = await measure(() => bareHistoryRead(endpointUrl, tagIds, from, to, defaults.nodesPerCall, defaults.valuesPerNode));
      if (m.items !== expected) failures.push(`baseline: ${m.items} values, model ${expected}`);
      return m;
    };

    const result = await compare({ pairs: PAIRS, warmup: WARMUP, ours, baseline, log });
    if (failures.length > 0) throw new Error(`BENCH.DATA_MISMATCH: ${failures.length} run(s) lost or doubled data:\n${failures.join('\n')}`);
    const oursRate = median(result.ours.map(rate));
    const bareRate = median(result.baseline.map(rate));
    const cpu = { ours: Math.round(cpuPerMillion(result.ours)), bare: Math.round(cpuPerMillion(result.baseline)) };
    const workload = `plant simulator (own process) with ${tagIds.length} tags (${MACHINES} machines × 50), tick 1 s; raw history of every tag over ${HOURS} h, ${expected.toLocaleString('en')} values; security None; both sides ${defaults.nodesPerCall} nodes per call and ${defaults.valuesPerNode.toLocaleString('en')} values per node (the source defaults), continuation points followed; ours into ${telemetryRawV1.name} (${PARTITIONS} partitions, acks=all) through the spool (fsync batch) until Kafka acknowledged every value`;
    recordResult(KEY, {
      value: Number(result.medianRatio.toFixed(3)),
      unit: 'ratio',
      command: COMMAND,
      workload,
      ours: 'startHistorianConnector in this process, one OPC UA source (reading settings at their defaults, live off) and one backfill job over the range, fresh state folder and topic per run; timed from the start to the job finished and spool.flush() resolved (Kafka acknowledged every value)',
      baseline: 'a bare node-opcua client in this process: connect, session, namespace array, HistoryRead (ReadRawModifiedDetails) of the same nodes and range with the same nodes per call and values per node, continuation points followed, values counted; nothing written',
      window: 'ours: connector start (spool open, OPC UA connect and session included) to the last value acknowledged by Kafka; baseline: connect to the last answer',
      pairs: PAIRS,
      warmup: WARMUP,
      spread: { min: Number(result.minRatio.toFixed(3)), max: Number(result.maxRatio.toFixed(3)) },
      ratios: result.ratios.map((r) => Number(r.toFixed(3))),
      values_per_s: { ours: Math.round(oursRate), bare: Math.round(bareRate) },
      cpu_ms_per_million: { ...cpu, how: 'process.cpuUsage() of this process over the timed window (the simulator and the broker are not counted)' },
      values: expected,
      load_average_1m: { start: Number(loadAtStart.toFixed(1)), end: Number(loadavg()[0]!.toFixed(1)) },
      environment: { ...environment(), kafka: broker.source === 'external' ? 'external' : '3.9 (weir/kafka:3.9)', kafkajs: packageVersion('kafkajs'), 'node-opcua': packageVersion('node-opcua') },
    });
    log(
      `\n| key | value | goal | spread | workload | command | date |\n|---|---|---|---|---|---|---|\n` +
        `| \`${KEY}\` | **${result.medianRatio.toFixed(2)}** (throughput ratio) | — (issue states none) | ${result.minRatio.toFixed(2)}–${result.maxRatio.toFixed(2)} over ${PAIRS} pairs | ${workload}; ours ${Math.round(oursRate).toLocaleString('en')} values/s (${cpu.ours.toLocaleString('en')} ms CPU per million), bare HistoryRead ${Math.round(bareRate).toLocaleString('en')} values/s (${cpu.bare.toLocaleString('en')} ms CPU per million); every run complete against the model | \`${COMMAND}\` | ${new Date().toISOString().slice(0, 10)} |\n`,
    );
  } finally {
    sim.kill('SIGTERM');
    await Promise.race([exited(sim), new Promise((r) => setTimeout(r, 10_000))]);
    if (sim.exitCode === null) sim.kill('SIGKILL');
    await admin.disconnect();
    await broker.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
