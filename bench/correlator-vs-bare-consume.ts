/**
 * The correlator (services/correlator) with 100 rules loaded vs a bare kafkajs `eachBatch`
 * consumer, reading the same ot.events.v1 topic side by side in one run; then the
 * end-to-end alert latency.
 *
 * Workload: 30,000 ot.events.v1 messages of ~300 bytes (60 % OPC UA audit writes to setpoints
 * of 20 machines that have an open work order, 30 % sessions from 5 known clients, 10 % alarms),
 * 3 partitions, produced once up front with the lib's idempotent BatchingProducer (acks=all).
 * Rules: the 14 built-in ICS rules plus 80 generated detection rules (contains, startswith,
 * endswith, re, cidr, gte, 1 of, not) and 6 event_count correlations; none of them alerts on the
 * workload (the work orders cover the writes, the sessions come from learnt clients), so the run
 * measures evaluation, not alert output.
 *
 * Ours: CorrelatorApplication in-process, a fresh consumer group and state folder per run
 * (normalise, 100 rules, checkpoint with fdatasync per batch group, offset commit). Baseline:
 * kafkajs `consumer.run({ eachBatch })` counting messages without decoding them. Timed window,
 * both sides: from the moment start()/run() resolved until the last message was handled (ours:
 * checkpointed). Every run checks the count (the correlator's handled count, the bare consumer's
 * count) equals the topic's messages.
 *
 * Latency: one more correlator, once its consumers are in their groups; 100 program-download method calls on 100 machines without a work
 * order, sent one at a time at 10/s (open loop, not waiting for alerts); each must raise one alert;
 * latency = the alert record's timestamp on sec.alerts.v1 (set when the correlator sends it, after the
 * checkpoint) minus the time of the send call, in ms (both from this process's clock).
 *
 * Run: npx tsx bench/correlator-vs-bare-consume.ts   (env: WEIR_TEST_KAFKA_BROKERS to use an
 * existing broker; BENCH_PAIRS, BENCH_WARMUP, BENCH_MESSAGES to change the run)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { erpWorkOrdersV1, itSecurityEventsV1, otEventsV1, securityAlertsV1, telemetryEnrichedV1, topicName, type AlertV1, type OtEventV1 } from '@weir/contracts';
import { BatchingProducer, createKafkaClient, ensureTopics, kafkaSettingsSchema, provisioningOptions } from '@weir/kafka';
import { createLogger } from '@weir/observability';
import { startKafka, uniqueSuffix, uniqueTopicPrefix } from '@weir/testing';
import type { Kafka } from 'kafkajs';
import { correlatorSettingsSchema } from '../services/correlator/src/config';
import { CorrelatorApplication } from '../services/correlator/src/correlator.application';
import { compare, cpuPerMillion, environment, median, rate, recordResult, type RunMeasure } from './lib/harness';

const KEY = 'correlator.vs-bare-consume';
const COMMAND = 'npx tsx bench/correlator-vs-bare-consume.ts';
const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 30_000);
const PAIRS = Number(process.env['BENCH_PAIRS'] ?? 5);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 1);
const PARTITIONS = 3;
const DAY = Date.UTC(2026, 10, 25, 6, 0, 0);
const CLIENTS = ['10.20.0.15', '10.20.0.16', '10.20.0.17', '10.99.0.5', '10.99.0.6'];
const ASSET_MAPPING = [{ kind: 'pattern', target: 'nodeId', regex: '^ns=3;s=(\\w+)\\.(\\w+)\\.', assetId: '${2:lower}' }];

function event(i: number): OtEventV1 {
  const time = new Date(DAY + i * 100).toISOString();
  const machine = `Machine${i % 20}`;
  const base = { eventId: `b${i.toString(16)}`, sourceId: `plc-${i % 6}`, time, severity: 500, attributes: {} };
  const r = i % 10;
  if (r < 6) return { ...base, kind: 'audit', type: 'AuditWriteUpdateEventType', message: `Write to Line1.${machine}.SpeedSetpoint`, nodeId: `ns=3;s=Line1.${machine}.SpeedSetpoint`, actor: { user: 'operator1', clientAddress: CLIENTS[i % 3]! }, attributes: { oldValue: 400 + (i % 50), newValue: 401 + (i % 50) } };
  if (r < 9) return { ...base, kind: 'audit', type: 'AuditCreateSessionEventType', message: 'session', actor: { user: 'operator1', clientAddress: CLIENTS[i % CLIENTS.length]! } };
  return { ...base, kind: 'alarm', type: 'ExclusiveLimitAlarmType', message: 'Temperature high', nodeId: `ns=3;s=Line1.${machine}.Temperature`, alarm: { conditionId: `${machine}.TempAlarm`, active: i % 20 === 9, suppressed: false } };
}

/** 80 detection rules and 6 correlations that exercise the matcher without matching the workload. */
function generatedRules(): string {
  const docs: string[] = [];
  for (let k = 0; k < 80; k++) {
    const kind = k % 8;
    const sel = [
      `    ot.node_id|endswith: .Valve${k}Open`,
      `    message|contains: forbidden-${k}`,
      `    ot.node_id|startswith: 'ns=9;s=Other${k}'`,
      `    user.name|re: '^attacker${k}[0-9]+$'`,
      `    ot.client_address|cidr: 172.${16 + (k % 16)}.0.0/16`,
      `    event.severity|gte: ${1001 - (k % 1)}`,
      `    ot.method: [Reset${k}, Purge${k}]`,
      `    event.type: Audit${k}CustomEventType`,
    ][kind]!;
    docs.push(`title: generated ${k}\nid: gen-${k}\nname: gen_${k}\ndetection:\n  sel_a:\n${sel}\n  sel_b:\n    event.source: ot\n  filter:\n    user.name: svc_${k}\n  condition: 1 of sel_* and sel_a and not filter\nlevel: low\ntags:\n  - attack.t0836\n`);
  }
  for (let k = 0; k < 6; k++) docs.push(`title: generated correlation ${k}\nid: gen-corr-${k}\ncorrelation:\n  type: event_count\n  rules:\n    - gen_${k}\n    - gen_${k + 10}\n  group-by:\n    - ot.source_id\n  timespan: 10m\n  condition:\n    gte: 3\nlevel: medium\ntags:\n  - attack.t0836\n`);
  return docs.join('---\n');
}

async function main(): Promise<void> {
  const broker = await startKafka();
  const logger = createLogger({ service: 'bench', level: 'warn' });
  const brokers = broker.brokers;
  const kafka: Kafka = createKafkaClient(kafkaSettingsSchema.parse({ brokers, clientId: 'bench-correlator' }), logger);
  const prefix = uniqueTopicPrefix('bench-corr');
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [otEventsV1, itSecurityEventsV1, erpWorkOrdersV1, telemetryEnrichedV1, securityAlertsV1], provisioningOptions(kafkaSettingsSchema.parse({ brokers, topicPrefix: prefix, partitions: PARTITIONS, replicationFactor: 1 })));
  await admin.disconnect();
  const producer = new BatchingProducer(kafka, { logger, topicPrefix: prefix, maxBatchMessages: 5000 });
  const workOrders = Array.from({ length: 20 }, (_, m) => ({ id: `WO-${m}`, assetId: `machine${m}`, type: 'PM02', status: 'in-progress' as const, validFrom: new Date(DAY - 3_600_000).toISOString(), validTo: new Date(DAY + 86_400_000).toISOString(), changedAt: new Date(DAY).toISOString(), attributes: {} }));
  await producer.sendMany(erpWorkOrdersV1, workOrders);
  const events = Array.from({ length: MESSAGES }, (_, i) => event(i));
  for (let i = 0; i < events.length; i += 10_000) await producer.sendMany(otEventsV1, events.slice(i, i + 10_000));
  const rulesDir = mkdtempSync(join(tmpdir(), 'bench-rules-'));
  writeFileSync(join(rulesDir, 'generated.yml'), generatedRules());
  const dirs = [rulesDir];
  const settings = (group: string, stateDir: string) =>
    correlatorSettingsSchema.parse({
      kafka: { brokers, clientId: 'bench-correlator', topicPrefix: prefix, partitions: PARTITIONS, replicationFactor: 1 },
      observability: { logLevel: 'warn', opsPort: 0 },
      correlator: { groupId: group, stateDir, rulesDirs: [rulesDir], assetMapping: ASSET_MAPPING, watchRules: false, consumeTelemetry: false, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000 },
    });
  let rulesLoaded = 0;

  const ours = async (): Promise<RunMeasure> => {
    const stateDir = mkdtempSync(join(tmpdir(), 'bench-state-'));
    dirs.push(stateDir);
    const app = new CorrelatorApplication(settings(`bench-${uniqueSuffix()}`, stateDir), { logger, opsServer: false });
    rulesLoaded = app.lastLoad.ruleSet.rules.length;
    await app.start();
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    while (app.handled().ot < MESSAGES) await new Promise((r) => setTimeout(r, 5));
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    const handled = app.handled().ot;
    await app.stop();
    if (handled !== MESSAGES) throw new Error(`BENCH.DATA_MISMATCH: correlator handled ${handled} of ${MESSAGES}`);
    return { items: handled, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
  };
  const bare = async (): Promise<RunMeasure> => {
    const consumer = kafka.consumer({ groupId: `bench-bare-${uniqueSuffix()}`, maxBytesPerPartition: 1024 * 1024, maxWaitTimeInMs: 1000 });
    await consumer.connect();
    await consumer.subscribe({ topic: topicName(otEventsV1, prefix), fromBeginning: true });
    let count = 0;
    let done: () => void = () => undefined;
    const finished = new Promise<void>((r) => (done = r));
    await consumer.run({
      eachBatch: async ({ batch }) => {
        count += batch.messages.length;
        if (count >= MESSAGES) done();
        await Promise.resolve();
      },
    });
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await finished;
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    await consumer.disconnect();
    if (count !== MESSAGES) throw new Error(`BENCH.DATA_MISMATCH: bare consumer read ${count} of ${MESSAGES}`);
    return { items: count, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
  };
  // The machine is shared: the 1-minute load average, sampled each second while the pairs run, goes with the result.
  const loads: number[] = [loadavg()[0]!];
  const sampler = setInterval(() => loads.push(loadavg()[0]!), 1000);
  const result = await compare({ pairs: PAIRS, warmup: WARMUP, ours, baseline: bare }).finally(() => clearInterval(sampler));
  loads.push(loadavg()[0]!);

  // End-to-end latency: open loop at 10/s, one alert per trigger.
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-state-'));
  dirs.push(stateDir);
  const app = new CorrelatorApplication(settings(`bench-lat-${uniqueSuffix()}`, stateDir), { logger, opsServer: false });
  await app.start();
  // Latency of a running correlator, not of its group join: wait until every consumer has its partitions.
  while ((await app.health.report('readiness')).status !== 'ok') await new Promise((r) => setTimeout(r, 100));
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  const reader = kafka.consumer({ groupId: `bench-alerts-${uniqueSuffix()}`, maxWaitTimeInMs: 50 });
  await reader.connect();
  await reader.subscribe({ topic: topicName(securityAlertsV1, prefix), fromBeginning: true });
  await reader.run({
    eachMessage: async ({ message }) => {
      const a = JSON.parse(message.value!.toString()) as AlertV1;
      // The alert record's timestamp is set when the correlator's producer sends it (same host,
      // same clock), so the reader's own group join does not count.
      const producedAt = Number(message.timestamp);
      for (const e of a.finding_info.related_events) {
        const t = sent.get(e.uid);
        if (t !== undefined && a.activity_id === 1) latencies.push(producedAt - t);
      }
      await Promise.resolve();
    },
  });
  const TRIGGERS = 100;
  const start = DAY + MESSAGES * 100 + 60_000;
  const deliveries: Promise<void>[] = [];
  for (let k = 0; k < TRIGGERS; k++) {
    const e: OtEventV1 = { eventId: `t${k}`, sourceId: 'plc-lat', kind: 'audit', type: 'AuditUpdateMethodEventType', time: new Date(start + k * 100).toISOString(), severity: 700, message: 'download', nodeId: `ns=3;s=Line9.Press${k}.Program`, actor: { user: 'engineer1', clientAddress: CLIENTS[3]! }, attributes: { methodName: 'DownloadProgram' } };
    sent.set(`ot.events.v1:plc-lat:t${k}`, Date.now());
    deliveries.push(producer.send(otEventsV1, e));
    await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.all(deliveries);
  const deadline = Date.now() + 60_000;
  while (latencies.length < TRIGGERS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await reader.disconnect();
  await app.stop();
  await producer.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await broker.stop();
  if (latencies.length !== TRIGGERS) throw new Error(`BENCH.DATA_MISMATCH: ${latencies.length} of ${TRIGGERS} alerts arrived`);
  latencies.sort((a, b) => a - b);
  const p = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;

  const oursRate = median(result.ours.map(rate));
  const bareRate = median(result.baseline.map(rate));
  const summary = {
    value: Number(result.medianRatio.toFixed(3)),
    unit: 'ratio (correlator events/s with 100 rules ÷ bare kafkajs eachBatch events/s)',
    command: COMMAND,
    spread: [Number(result.minRatio.toFixed(3)), Number(result.maxRatio.toFixed(3))],
    pairs: PAIRS,
    rules: rulesLoaded,
    messages: MESSAGES,
    partitions: PARTITIONS,
    ours_events_per_s: Math.round(oursRate),
    bare_events_per_s: Math.round(bareRate),
    ours_cpu_ms_per_million: Math.round(cpuPerMillion(result.ours)),
    bare_cpu_ms_per_million: Math.round(cpuPerMillion(result.baseline)),
    alert_latency_ms: { p50: Math.round(p(0.5)), p99: Math.round(p(0.99)), max: Math.round(latencies.at(-1)!), triggers: TRIGGERS, rate_per_s: 10 },
    environment: environment(),
    load_avg_1m: { start: Number(loads[0]!.toFixed(2)), end: Number(loads.at(-1)!.toFixed(2)), min: Number(Math.min(...loads).toFixed(2)), max: Number(Math.max(...loads).toFixed(2)) },
  };
  recordResult(KEY, summary);
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
