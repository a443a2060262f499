/**
 * StoreAndForwardProducer (libs/kafka spool, fsync "batch") vs sending the same messages
 * directly through the BatchingProducer, side by side in one run.
 *
 * Workload: BENCH_MESSAGES (default 200,000) valid ot.telemetry.raw.v1 messages of ~220 B,
 * 1,000 series keys, 3 partitions, acks=all, idempotent producer with its default batching.
 * Every run writes to a topic of its own, created before the timed window.
 *
 * Ours: `spool.appendMany` of 500 messages at a time (one OPC UA publish response), each
 * awaited (durable: written and fdatasynced by group commit), then `spool.flush()`; the
 * spool forwards in the background through its own BatchingProducer. Timed from the first
 * append to the moment Kafka acknowledged the last message.
 * Baseline: the same messages through `producer.enqueue` one by one, then `flush()` and the
 * deliveries awaited: the fastest way to use the producer from one loop (no disk at all).
 * Both validate every message with zod (`encode`) once.
 *
 * Every run checks that its topic holds exactly the messages sent (nothing lost, nothing
 * doubled); a run that fails the check fails the bench. CPU time is this process's (the
 * broker runs in a container). Besides the ratio it records the append-only throughput of
 * the spool and the fdatasync count and median per run.
 *
 * Run: npx tsx bench/spool-vs-producer.ts   (env: WEIR_TEST_KAFKA_BROKERS to use an existing
 * broker; BENCH_PAIRS, BENCH_WARMUP, BENCH_MESSAGES to change the run)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { telemetryRawV1, topicName, type TelemetryRawV1 } from '@weir/contracts';
import { BatchingProducer, createKafkaClient, ensureTopics, kafkaSettingsSchema, StoreAndForwardProducer } from '@weir/kafka';
import { createLogger, Registry } from '@weir/observability';
import { startKafka, uniqueTopicPrefix } from '@weir/testing';
import type { Admin, Kafka } from 'kafkajs';
import { compare, cpuPerMillion, environment, median, packageVersion, rate, recordResult, type RunMeasure } from './lib/harness';

const KEY = 'kafka.spool-vs-direct-producer';
const COMMAND = 'npx tsx bench/spool-vs-producer.ts';
const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 200_000);
const CHUNK = 500;
const PARTITIONS = 3;
const SERIES = 1_000;
const PAIRS = Number(process.env['BENCH_PAIRS'] ?? 7);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 2);

function sample(seq: number): TelemetryRawV1 {
  const t = Date.UTC(2026, 10, 25, 8, 0, 0) + seq;
  return {
    sourceId: 'plant-hamburg',
    nodeId: `ns=3;s=Line${seq % 7}.Machine${seq % 13}.Tag${seq % SERIES}`,
    seq,
    origin: 'opcua',
    value: Math.round(Math.sin(seq / 50) * 10_000) / 100,
    dataType: 'Double',
    status: 0,
    sourceTime: new Date(t).toISOString(),
    serverTime: new Date(t + 4).toISOString(),
  };
}

async function timed(run: () => Promise<number>): Promise<RunMeasure> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const items = await run();
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  return { items, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function verify(admin: Admin, topic: string): Promise<void> {
  const total = (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + BigInt(p.high), 0n);
  if (total !== BigInt(MESSAGES)) throw new Error(`BENCH.DATA_MISMATCH: ${topic} holds ${total} messages, expected ${MESSAGES}`);
}

async function main(): Promise<void> {
  process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';
  process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  const broker = await startKafka();
  const logger = createLogger({ service: 'bench', level: 'warn' });
  const kafka: Kafka = createKafkaClient(kafkaSettingsSchema.parse({ brokers: broker.brokers, clientId: 'bench-spool' }), logger);
  const admin: Admin = kafka.admin();
  await admin.connect();
  // Prepared once, outside the timed windows, for both sides.
  const messages = Array.from({ length: MESSAGES }, (_, i) => sample(i));
  const bytes = Buffer.byteLength(JSON.stringify(messages[MESSAGES - 1]));
  const appendRates: number[] = [];
  const fsyncs: { count: number; medianMs: number }[] = [];

  const freshTopic = async (label: string): Promise<string> => {
    const prefix = uniqueTopicPrefix(`bench-${label}`);
    await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: PARTITIONS, withDlq: false });
    return prefix;
  };

  const ours = async (): Promise<RunMeasure> => {
    const prefix = await freshTopic('spool');
    const dir = await mkdtemp(join(tmpdir(), 'weir-bench-spool-'));
    const registry = new Registry();
    const producer = new BatchingProducer(kafka, { logger, topicPrefix: prefix });
    await producer.connect();
    const spool = await StoreAndForwardProducer.open({ dir, producer, logger, metrics: registry, fsync: 'batch' });
    let appendMs = 0;
    try {
      const m = await timed(async () => {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < MESSAGES; i += CHUNK) await spool.appendMany(telemetryRawV1, messages.slice(i, i + CHUNK));
        appendMs = Number(process.hrtime.bigint() - t0) / 1e6;
        await spool.flush();
        return MESSAGES;
      });
      appendRates.push((MESSAGES / appendMs) * 1000);
      const hist = (await registry.getSingleMetric('weir_spool_fsync_duration_seconds')!.get()).values;
      const count = hist.find((v) => (v as { metricName?: string }).metricName?.endsWith('_count'))?.value ?? 0;
      const sum = hist.find((v) => (v as { metricName?: string }).metricName?.endsWith('_sum'))?.value ?? 0;
      fsyncs.push({ count, medianMs: count ? (sum / count) * 1000 : 0 });
      return m;
    } finally {
      await spool.close();
      await producer.close();
      await rm(dir, { recursive: true, force: true });
      await verify(admin, topicName(telemetryRawV1, prefix));
    }
  };

  const direct = async (): Promise<RunMeasure> => {
    const prefix = await freshTopic('direct');
    const producer = new BatchingProducer(kafka, { logger, topicPrefix: prefix });
    await producer.connect();
    try {
      return await timed(async () => {
        const deliveries: Promise<void>[] = [];
        for (const m of messages) deliveries.push((await producer.enqueue(telemetryRawV1, m)).delivered);
        await producer.flush();
        await Promise.all(deliveries);
        return MESSAGES;
      });
    } finally {
      await producer.close();
      await verify(admin, topicName(telemetryRawV1, prefix));
    }
  };

  try {
    const result = await compare({ pairs: PAIRS, warmup: WARMUP, ours, baseline: direct });
    const oursRate = median(result.ours.map(rate));
    const directRate = median(result.baseline.map(rate));
    const cpuOurs = cpuPerMillion(result.ours);
    const cpuDirect = cpuPerMillion(result.baseline);
    const measured = fsyncs.slice(WARMUP);
    const appendRate = median(appendRates.slice(WARMUP));
    const workload = `${MESSAGES.toLocaleString('en')} valid ot.telemetry.raw.v1 messages of ~${bytes} B (${SERIES.toLocaleString('en')} series keys), ${PARTITIONS} partitions, acks=all, idempotent BatchingProducer with default batching; a fresh topic per run; closed loop`;
    recordResult(KEY, {
      value: Number(result.medianRatio.toFixed(3)),
      unit: 'ratio',
      goal: 0.8,
      command: COMMAND,
      workload,
      ours: `StoreAndForwardProducer, fsync batch (group commit), appendMany of ${CHUNK} awaited one after another, then flush(); forwarding through its own BatchingProducer in the background`,
      baseline: 'BatchingProducer.enqueue of each message, then flush() and all deliveries awaited (no disk)',
      window: 'from the first append/enqueue until Kafka acknowledged the last message, both sides',
      pairs: PAIRS,
      warmup: WARMUP,
      spread: { min: Number(result.minRatio.toFixed(3)), max: Number(result.maxRatio.toFixed(3)) },
      ratios: result.ratios.map((r) => Number(r.toFixed(3))),
      ours_msgs_per_s: Math.round(oursRate),
      direct_msgs_per_s: Math.round(directRate),
      spool_append_msgs_per_s_while_forwarding: Math.round(appendRate),
      fsyncs_per_run_median: median(measured.map((f) => f.count)),
      fsync_mean_ms_median: Number(median(measured.map((f) => f.medianMs)).toFixed(3)),
      cpu_ms_per_million: { ours: Math.round(cpuOurs), direct: Math.round(cpuDirect) },
      environment: { ...environment(), kafka: broker.source === 'external' ? 'external' : '3.9 (weir/kafka:3.9)', kafkajs: packageVersion('kafkajs'), disk: 'the machine disk under os.tmpdir()' },
    });
    process.stdout.write(
      `\n| key | value | goal | spread | workload | command | date |\n|---|---|---|---|---|---|---|\n` +
        `| \`${KEY}\` | **${result.medianRatio.toFixed(2)}** (throughput ratio) | ≥ 0.8 | ${result.minRatio.toFixed(2)}–${result.maxRatio.toFixed(2)} over ${PAIRS} pairs | ${workload}; ours = spool appendMany×${CHUNK} (fsync batch) until all acknowledged, ${Math.round(oursRate / 1000)}k msg/s (${Math.round(cpuOurs)} ms CPU per million); direct BatchingProducer ${Math.round(directRate / 1000)}k msg/s (${Math.round(cpuDirect)} ms CPU per million) | \`${COMMAND}\` | ${new Date().toISOString().slice(0, 10)} |\n`,
    );
  } finally {
    await admin.disconnect();
    await broker.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
