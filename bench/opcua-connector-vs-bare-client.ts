/**
 * The OPC UA connector (services/opcua-connector, run from src/main.ts as its own process)
 * vs a bare node-opcua client subscribing the same nodes of the same simulator, side by side.
 *
 * Workload: the plant simulator (services/plant-simulator, its own process) with
 * BENCH_TAGS (default 5,000) tags = machines × (12 standard + 38 extra), tick BENCH_TICK_MS
 * (default 200 ms): every tag has a value on the tick grid and changes every 1, 2, 5 or 10
 * ticks, about 10,000 value changes/s at the defaults (a rate the simulator serves on a
 * shared 2-core machine; 10,000 tags at 100 ms, ~40,000/s, starves it there). Both sides subscribe every tag,
 * security None, exception-based (sampling 0), publishing interval BENCH_PUBLISHING_MS
 * (default 500 ms), queue 100, discard oldest, items created 1,000 per call.
 *
 * Ours: the connector with a fresh state folder per run, counted as its samples arrive in
 * Kafka (ot.telemetry.raw.v1, 3 partitions, acks=all through the disk spool), read by a
 * kafkajs consumer in this process. Baseline: a bare node-opcua client in its own process
 * (this file with argument `bare`) counting the items of the DataChangeNotifications it
 * receives, nothing else. Each run: start the process, wait until every item is monitored,
 * BENCH_SETTLE_S (default 8 s) of warm-up, then a steady window of BENCH_WINDOW_S (default
 * 20 s); rate = notifications (ours: samples arriving in Kafka) in the window / its length.
 *
 * CPU: utime + stime of the measured process (/proc/<pid>/stat) over the steady window, per
 * million notifications; the simulator, the broker and the Kafka reader are not counted.
 *
 * Correctness in every run: for source times in [window start, window end − 2 s] the set of
 * distinct (node, source time) delivered (ours: in Kafka, after a graceful stop; baseline:
 * notifications) must equal what the simulator's model produced for every tag in that
 * interval, and nothing may arrive twice. A run that lost or doubled data fails the bench.
 *
 * Run: npx tsx bench/opcua-connector-vs-bare-client.ts   (env: WEIR_TEST_KAFKA_BROKERS to use
 * an existing broker; BENCH_PAIRS (5), BENCH_WARMUP (1), BENCH_TAGS, BENCH_TICK_MS,
 * BENCH_PUBLISHING_MS, BENCH_SETTLE_S, BENCH_WINDOW_S to change the run)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { otEventsV1, telemetryRawV1, topicName } from '@weir/contracts';
import { createKafkaClient, ensureTopics, kafkaSettingsSchema } from '@weir/kafka';
import { createLogger } from '@weir/observability';
import { PlantModel, PLANT_NAMESPACE_URI } from '@weir/plant-simulator';
import { freePort, startKafka, uniqueTopicPrefix, waitFor } from '@weir/testing';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { AttributeIds, MessageSecurityMode, OPCUAClient, SecurityPolicy, TimestampsToReturn } from 'node-opcua';
import { stringify } from 'yaml';
import { compare, cpuPerMillion, environment, median, packageVersion, rate, recordResult, type RunMeasure } from './lib/harness';
import { waitForSimulator } from './lib/opcua';

const KEY = 'opcua-connector.vs-bare-client';
const COMMAND = 'npx tsx bench/opcua-connector-vs-bare-client.ts';
const ROOT = resolve(__dirname, '..');
const TAGS = Number(process.env['BENCH_TAGS'] ?? 5_000);
const TICK_MS = Number(process.env['BENCH_TICK_MS'] ?? 200);
const PUBLISHING_MS = Number(process.env['BENCH_PUBLISHING_MS'] ?? 500);
const SETTLE_S = Number(process.env['BENCH_SETTLE_S'] ?? 8);
const WINDOW_S = Number(process.env['BENCH_WINDOW_S'] ?? 20);
const PAIRS = Number(process.env['BENCH_PAIRS'] ?? 5);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 1);
const QUEUE_SIZE = 100;
const ITEMS_PER_CALL = 1000;
const PARTITIONS = 3;
const SEED = 'bench-opcua';
// 50 tags per machine (12 standard + 38 generic), 10 machines per line.
const EXTRA_TAGS = 38;
const MACHINES = Math.max(1, Math.round(TAGS / (12 + EXTRA_TAGS)));
const SHAPE = { sites: 1, areasPerSite: 1, linesPerArea: Math.max(1, Math.ceil(MACHINES / 10)), machinesPerLine: Math.min(10, MACHINES), extraTagsPerMachine: EXTRA_TAGS };
const CLK_TCK = 100;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CPU ms (user + system) a process has used so far, from /proc/<pid>/stat. */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

function spawnTsx(args: string[], env: Record<string, string>, ipc = false): ChildProcess {
  // NODE_OPTIONS cleared: a tsx parent would pass its signal-relaying preflight down to the child.
  return spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? (['ipc'] as const) : [])] });
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));
}

// ---------------------------------------------------------------- the bare client (child process)

interface BareConfig {
  endpointUrl: string;
  tagIds: string[];
}
type BareRequest = { type: 'snapshot' } | { type: 'report'; from: number; to: number } | { type: 'stop' };
type BareReply = { type: 'ready'; items: number } | { type: 'snapshot'; count: number } | { type: 'report'; inWindow: number; doubled: number; count: number };

async function bareClient(configFile: string): Promise<void> {
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as BareConfig;
  const send = (m: BareReply): void => void process.send?.(m);
  const client = OPCUAClient.create({ applicationName: 'bench-bare-client', securityMode: MessageSecurityMode.None, securityPolicy: SecurityPolicy.None, endpointMustExist: false, connectionStrategy: { maxRetry: 3, initialDelay: 200, maxDelay: 1000 } });
  await client.connect(config.endpointUrl);
  const session = await client.createSession();
  const namespaces = (await session.readNamespaceArray()) as string[];
  const ns = namespaces.indexOf(PLANT_NAMESPACE_URI);
  const subscription = await session.createSubscription2({ requestedPublishingInterval: PUBLISHING_MS, requestedMaxKeepAliveCount: 20, requestedLifetimeCount: 120, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1 });
  let count = 0;
  let doubled = 0;
  // Per client handle the newest source time, and per source time how many notifications: enough to check completeness.
  const newest = new Map<number, number>();
  const bySourceTime = new Map<number, number>();
  subscription.on('raw_notification', (message: { notificationData?: unknown[] | null }) => {
    for (const data of message.notificationData ?? []) {
      const items = (data as { monitoredItems?: Array<{ clientHandle: number; value: { sourceTimestamp: Date | null } }> | null }).monitoredItems;
      if (!items) continue;
      count += items.length;
      for (const item of items) {
        const t = item.value.sourceTimestamp?.getTime() ?? 0;
        const last = newest.get(item.clientHandle);
        if (last !== undefined && t <= last) doubled++;
        else newest.set(item.clientHandle, t);
        bySourceTime.set(t, (bySourceTime.get(t) ?? 0) + 1);
      }
    }
  });
  let items = 0;
  for (let i = 0; i < config.tagIds.length; i += ITEMS_PER_CALL) {
    const part = config.tagIds.slice(i, i + ITEMS_PER_CALL).map((id) => ({ nodeId: `ns=${ns};s=${id}`, attributeId: AttributeIds.Value }));
    const group = await subscription.monitorItems(part, { samplingInterval: 0, queueSize: QUEUE_SIZE, discardOldest: true }, TimestampsToReturn.Both);
    items += group.monitoredItems.filter((m) => m.statusCode.isGood()).length;
  }
  send({ type: 'ready', items });
  process.on('message', (m: BareRequest) => {
    if (m.type === 'snapshot') send({ type: 'snapshot', count });
    else if (m.type === 'report') {
      let inWindow = 0;
      for (const [t, n] of bySourceTime) if (t >= m.from && t <= m.to) inWindow += n;
      send({ type: 'report', inWindow, doubled, count });
    } else {
      void (async () => {
        await session.close(true).catch(() => undefined);
        await client.disconnect().catch(() => undefined);
        process.exit(0);
      })();
    }
  });
}

function ask<T extends BareReply['type']>(child: ChildProcess, request: BareRequest, type: T): Promise<Extract<BareReply, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: BareReply): void => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      resolve(m as Extract<BareReply, { type: T }>);
    };
    child.on('message', onMessage);
    child.send(request, (err) => err && reject(err));
  });
}

// ---------------------------------------------------------------- the orchestrating process

async function main(): Promise<void> {
  process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';
  process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  const work = mkdtempSync(join(tmpdir(), 'weir-bench-opcua-'));
  const model = new PlantModel({ seed: SEED, tickMs: TICK_MS, shape: SHAPE });
  const tagIds = model.tags.map((t) => t.id);
  const nsuOf = (id: string): string => `nsu=${PLANT_NAMESPACE_URI};s=${id}`;
  const prefixLength = `nsu=${PLANT_NAMESPACE_URI};s=`.length;
  const log = (line: string): void => void process.stdout.write(`${line}\n`);

  // The simulator in its own process, so neither side's CPU or event loop is shared with it.
  const simPort = await freePort();
  const sim = spawnTsx(['services/plant-simulator/src/main.ts'], {
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
  });
  let simErr = '';
  // The simulator jumps to now when its tick loop falls more than 30 ticks behind (an overloaded machine):
  // the values it skipped are in its history but were never published live, so no client can receive them.
  let simJumps = 0;
  const simOutput = (d: Buffer): void => {
    const text = d.toString();
    simJumps += text.split('tick loop fell behind').length - 1;
    simErr = (simErr + text).slice(-4000);
  };
  sim.stderr?.on('data', simOutput);
  sim.stdout?.on('data', simOutput);
  const endpointUrl = `opc.tcp://127.0.0.1:${simPort}`;
  const broker = await startKafka();
  const logger = createLogger({ service: 'bench', level: 'warn' });
  const kafka: Kafka = createKafkaClient(kafkaSettingsSchema.parse({ brokers: broker.brokers, clientId: 'bench-opcua' }), logger);
  const admin: Admin = kafka.admin();
  await admin.connect();
  const children = new Set<ChildProcess>([sim]);

  try {
    await waitForSimulator(sim, endpointUrl, () => simErr);

    const expectedBetween = (from: number, to: number): number => tagIds.reduce((n, id) => n + model.samplesBetween(id, from, to).length, 0);
    const failures: string[] = [];
    let jumpsBefore = 0;
    const check = (side: string, got: number, expected: number, doubled: number): void => {
      const jumps = simJumps - jumpsBefore;
      jumpsBefore = simJumps;
      const line = `${side}: ${got} distinct (node, source time) in the checked interval, model ${expected}, doubled ${doubled}${jumps > 0 ? `; the simulator fell behind and skipped live ticks ${jumps} time(s) during this run (machine overloaded: not a valid run)` : ''}`;
      log(`  ${line}`);
      if (got !== expected || doubled !== 0) {
        failures.push(line);
      }
    };

    // One steady window on an already running process: settle, then count between two snapshots.
    const steadyWindow = async (pid: number, count: () => Promise<number>): Promise<RunMeasure & { from: number; to: number }> => {
      await sleep(SETTLE_S * 1000);
      const c0 = await count();
      const cpu0 = processCpuMs(pid);
      const t0 = Date.now();
      const h0 = process.hrtime.bigint();
      await sleep(WINDOW_S * 1000);
      const c1 = await count();
      const cpu1 = processCpuMs(pid);
      const wallMs = Number(process.hrtime.bigint() - h0) / 1e6;
      return { items: c1 - c0, wallMs, cpuMs: cpu1 - cpu0, from: t0, to: t0 + WINDOW_S * 1000 - 2000 };
    };

    const ours = async (): Promise<RunMeasure> => {
      const prefix = uniqueTopicPrefix('bench-opcua');
      // A broker that just started may not know its new partitions yet: retry until it does.
      await waitFor(() => ensureTopics(admin, [telemetryRawV1, otEventsV1], { prefix, partitions: PARTITIONS }).then(() => true, () => undefined), { timeoutMs: 60_000, intervalMs: 1000, what: 'the topics' });
      const topic = topicName(telemetryRawV1, prefix);
      let arrived = 0;
      let windowFrom = Number.POSITIVE_INFINITY;
      const seen = new Set<string>();
      const times: number[] = [];
      const consumer: Consumer = kafka.consumer({ groupId: `${prefix}reader`, maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachBatch: async ({ batch }) => {
          arrived += batch.messages.length;
          for (const m of batch.messages) {
            const s = JSON.parse(m.value!.toString()) as { nodeId: string; sourceTime: string };
            const t = Date.parse(s.sourceTime);
            if (t < windowFrom) continue;
            seen.add(`${s.nodeId.slice(prefixLength)}|${t}`);
            times.push(t);
          }
        },
      });
      const dir = join(work, prefix);
      const opsPort = await freePort();
      const configFile = join(work, `${prefix}.yaml`);
      writeFileSync(
        configFile,
        stringify({
          logLevel: 'warn',
          opsPort,
          stateDir: dir,
          kafka: { brokers: broker.brokers, topicPrefix: prefix, clientId: 'bench-opcua-connector', partitions: PARTITIONS },
          opcua: { acceptUnknownServerCertificates: true, maxItemsPerCall: ITEMS_PER_CALL },
          sources: [{ id: 'bench', endpointUrl, securityMode: 'None', securityPolicy: 'None', defaults: { samplingInterval: 0, publishingInterval: PUBLISHING_MS, queueSize: QUEUE_SIZE, discardOldest: true }, nodes: tagIds.map(nsuOf) }],
        }),
      );
      const child = spawnTsx(['services/opcua-connector/src/main.ts'], { WEIR_CONFIG_FILE: configFile });
      children.add(child);
      let err = '';
      const keep = (d: Buffer): void => void (err = (err + d.toString()).slice(-4000));
      child.stderr?.on('data', keep);
      child.stdout?.on('data', keep);
      try {
        await waitFor(
          async () => {
            if (child.exitCode !== null) throw new Error(`the connector exited with ${child.exitCode}: ${err}`);
            try {
              const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
              const m = /^weir_opcua_monitored_items\{[^}]*state="ok"[^}]*\} (\d+)$/m.exec(text);
              return m && Number(m[1]) === tagIds.length ? true : undefined;
            } catch {
              return undefined;
            }
          },
          { timeoutMs: 300_000, what: 'the connector to monitor every tag' },
        ).catch((e: unknown) => {
          throw new Error(`${e instanceof Error ? e.message : String(e)}; the connector's output: ${err}`);
        });
        const measured = await steadyWindow(child.pid!, async () => {
          if (windowFrom === Number.POSITIVE_INFINITY) windowFrom = Date.now();
          return arrived;
        });
        const expected = expectedBetween(measured.from, measured.to);
        const inInterval = (): number => {
          let n = 0;
          for (const k of seen) {
            const t = Number(k.slice(k.lastIndexOf('|') + 1));
            if (t >= measured.from && t <= measured.to) n++;
          }
          return n;
        };
        // A connector that lags is given time to catch up (what it holds is not lost); then it stops gracefully.
        await waitFor(() => (inInterval() >= expected ? true : undefined), { timeoutMs: 60_000, intervalMs: 1000, what: `${expected} samples in Kafka` }).catch(() => undefined);
        child.kill('SIGTERM');
        const code = await exited(child);
        if (code !== 0) throw new Error(`the connector exited with ${code} on SIGTERM: ${err}`);
        const messagesInInterval = times.filter((t) => t >= measured.from && t <= measured.to).length;
        const distinct = inInterval();
        check('ours', distinct, expected, messagesInInterval - distinct);
        return measured;
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        children.delete(child);
        await consumer.disconnect();
        rmSync(dir, { recursive: true, force: true });
      }
    };

    const bare = async (): Promise<RunMeasure> => {
      const configFile = join(work, `bare-${Date.now()}.json`);
      writeFileSync(configFile, JSON.stringify({ endpointUrl, tagIds } satisfies BareConfig));
      const child = spawnTsx([__filename, 'bare', configFile], {}, true);
      children.add(child);
      let err = '';
      child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
      try {
        const ready = await new Promise<Extract<BareReply, { type: 'ready' }>>((resolve, reject) => {
          child.on('message', (m: BareReply) => m.type === 'ready' && resolve(m));
          child.once('exit', (code) => reject(new Error(`the bare client exited with ${code}: ${err}`)));
        });
        if (ready.items !== tagIds.length) throw new Error(`the bare client monitors ${ready.items} of ${tagIds.length} tags`);
        const measured = await steadyWindow(child.pid!, async () => (await ask(child, { type: 'snapshot' }, 'snapshot')).count);
        // Let the last publishes of the interval arrive.
        const expected = expectedBetween(measured.from, measured.to);
        const report = await waitFor(
          async () => {
            const r = await ask(child, { type: 'report', from: measured.from, to: measured.to }, 'report');
            return r.inWindow >= expected ? r : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 1000, what: `${expected} notifications` },
        ).catch(() => ask(child, { type: 'report', from: measured.from, to: measured.to }, 'report'));
        check('baseline', report.inWindow, expected, report.doubled);
        child.send({ type: 'stop' } satisfies BareRequest);
        await Promise.race([exited(child), sleep(10_000)]);
        return measured;
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        children.delete(child);
      }
    };

    const result = await compare({ pairs: PAIRS, warmup: WARMUP, ours, baseline: bare, log });
    if (failures.length > 0) throw new Error(`BENCH.DATA_MISMATCH: ${failures.length} run(s) lost or doubled data:\n${failures.join('\n')}`);
    const oursRate = median(result.ours.map(rate));
    const bareRate = median(result.baseline.map(rate));
    const cpuOurs = cpuPerMillion(result.ours);
    const cpuBare = cpuPerMillion(result.baseline);
    const changesPerS = Math.round(expectedBetween(Date.now() - 60_000, Date.now() - 1) / 60);
    const workload = `plant simulator (own process) with ${tagIds.length.toLocaleString('en')} tags (${MACHINES} machines × 50), tick ${TICK_MS} ms, ~${changesPerS.toLocaleString('en')} value changes/s; both sides subscribe every tag, security None, sampling 0, publishing ${PUBLISHING_MS} ms, queue ${QUEUE_SIZE}, ${ITEMS_PER_CALL} items per call; ${SETTLE_S} s warm-up then a ${WINDOW_S} s steady window per run; ours counted as samples arrive in Kafka (${PARTITIONS} partitions, acks=all)`;
    recordResult(KEY, {
      value: Number(result.medianRatio.toFixed(3)),
      unit: 'ratio',
      goal: 0.7,
      command: COMMAND,
      workload,
      ours: 'services/opcua-connector from src/main.ts (tsx) as its own process: read-only session, one subscription, spool (fsync batch) to Kafka; counted by a kafkajs consumer as samples arrive in ot.telemetry.raw.v1',
      baseline: 'a bare node-opcua client as its own process: one subscription, the same items, counts the items of DataChangeNotifications (raw_notification), nothing else',
      window: `${WINDOW_S} s after ${SETTLE_S} s of warm-up, both sides; correctness over source times [window start, window end − 2 s] against the simulator model`,
      pairs: PAIRS,
      warmup: WARMUP,
      spread: { min: Number(result.minRatio.toFixed(3)), max: Number(result.maxRatio.toFixed(3)) },
      ratios: result.ratios.map((r) => Number(r.toFixed(3))),
      ours_notifications_per_s: Math.round(oursRate),
      bare_notifications_per_s: Math.round(bareRate),
      cpu_ms_per_million: { ours: Math.round(cpuOurs), bare: Math.round(cpuBare), how: 'utime+stime of the measured process from /proc/<pid>/stat over the steady window' },
      environment: { ...environment(), kafka: broker.source === 'external' ? 'external' : '3.9 (weir/kafka:3.9)', kafkajs: packageVersion('kafkajs'), 'node-opcua': packageVersion('node-opcua') },
    });
    log(
      `\n| key | value | goal | spread | workload | command | date |\n|---|---|---|---|---|---|---|\n` +
        `| \`${KEY}\` | **${result.medianRatio.toFixed(2)}** (throughput ratio) | ≥ 0.7 | ${result.minRatio.toFixed(2)}–${result.maxRatio.toFixed(2)} over ${PAIRS} pairs | ${workload}; ours ${Math.round(oursRate).toLocaleString('en')} samples/s into Kafka (${Math.round(cpuOurs).toLocaleString('en')} ms CPU per million), bare client ${Math.round(bareRate).toLocaleString('en')} notifications/s (${Math.round(cpuBare).toLocaleString('en')} ms CPU per million); every run complete against the model, nothing doubled | \`${COMMAND}\` | ${new Date().toISOString().slice(0, 10)} |\n`,
    );
  } finally {
    for (const c of children) {
      c.kill('SIGTERM');
      await Promise.race([exited(c), sleep(10_000)]);
      if (c.exitCode === null) c.kill('SIGKILL');
    }
    await admin.disconnect();
    await broker.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'bare') {
  bareClient(process.argv[3]!).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
