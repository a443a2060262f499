/**
 * The enricher vs a bare kafkajs consume-produce pass-through on the same input, side by side.
 *
 * Workload: BENCH_MESSAGES (default 200,000) ot.telemetry.raw.v1 samples of ~230 B over 1,000
 * series on 50 machines (5 lines, one site), 3 partitions, written with the lib's idempotent
 * BatchingProducer (acks=all) into a fresh topic set per run, outside the timed window. The ERP
 * context: 57 assets (limits on every machine's Temperature), two production orders per line
 * switching mid-run, a work order on every fifth machine for part of the run, three shifts.
 * Every series maps to a machine by one pattern rule.
 *
 * Ours (the key's numerator): EnricherApplication in this process with its defaults: decode + fast
 * check of every input (zod for what the check does not vouch for), the as-of join (memoised per
 * series), the output spliced from the input's bytes and the cached context JSON (not validated
 * again), one Kafka transaction per fetched partition batch (output + input offsets) through a
 * transactional producer per input partition, partitions enriched and committed side by side.
 * Timed from start() resolved (context loaded, group joined, producers initialised) until the
 * committed output count reached the input count; stopping is not timed.
 * Baseline (the key's denominator): bare kafkajs `eachBatch` consumer + one idempotent producer
 * (acks=all) copying each fetched batch's key and value to the output topic, kafkajs commits; the
 * enricher's own fetch and produce settings (bytes per partition per fetch, partitions at once,
 * produce request size). Timed from run() resolved until every message was acknowledged;
 * disconnecting is not timed.
 * Extra (information, not the key): the same pass-through in Kafka transactions (a transactional
 * producer per input partition, sendOffsets, commit per batch): what exactly-once costs by itself.
 * It runs inside each baseline turn, alternating before/after the plain pass-through.
 *
 * Correctness in every run: after the window, the output topic is read to its end with
 * read_committed; it must hold every input sample exactly once ((sourceId, seq) distinct, count
 * equal); for ours, every sample must carry its machine and the mapped ones a production order.
 *
 * Run: npx tsx bench/enricher-vs-passthrough.ts   (env: WEIR_TEST_KAFKA_BROKERS to use an
 * existing broker; BENCH_PAIRS, BENCH_WARMUP, BENCH_MESSAGES to change the run)
 */
import { erpAssetsV1, erpProductionOrdersV1, erpShiftsV1, erpWorkOrdersV1, telemetryEnrichedV1, telemetryRawV1, topicName, type ErpAssetV1, type TelemetryEnrichedV1, type TelemetryRawV1 } from '@weir/contracts';
import { BatchingProducer, createKafkaClient, createTransactionalProducer, ensureTopics, kafkaSettingsSchema, splitByBytes } from '@weir/kafka';
import { createLogger, Registry } from '@weir/observability';
import { startKafka, uniqueSuffix, uniqueTopicPrefix } from '@weir/testing';
import type { Kafka, Message } from 'kafkajs';
import { enricherSectionSchema, enricherSettingsSchema } from '../services/enricher/src/config';
import { EnricherApplication } from '../services/enricher/src/enricher.application';
import { compare, cpuPerMillion, environment, median, packageVersion, rate, recordResult, type RunMeasure } from './lib/harness';

const KEY = 'enricher.vs-passthrough';
const COMMAND = 'npx tsx bench/enricher-vs-passthrough.ts';
const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 200_000);
const PAIRS = Number(process.env['BENCH_PAIRS'] ?? 5);
const ENRICHER_OVERRIDES = JSON.parse(process.env['BENCH_ENRICHER'] ?? '{}') as Record<string, unknown>;
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 1);
const PARTITIONS = 3;
const SERIES = 1_000;
const MACHINES = 50;
const LINES = 5;
// The pass-throughs consume and produce with the enricher's own defaults: the same bytes per partition per
// fetch, the same partitions at once, the same produce request size. (Before 2026-12-01 they used kafkajs's
// 1 MiB per partition, one partition at a time, 1 MiB requests.)
const ENRICHER_DEFAULTS = enricherSectionSchema.parse({});
const FETCH = {
  maxBytesPerPartition: ENRICHER_DEFAULTS.maxBytesPerPartition,
  maxBytes: Math.max(10 * 1024 * 1024, ENRICHER_DEFAULTS.maxBytesPerPartition * ENRICHER_DEFAULTS.partitionsConcurrently),
  maxWaitTimeInMs: 1000,
  minBytes: 1,
};
const CONCURRENTLY = ENRICHER_DEFAULTS.partitionsConcurrently;
const MAX_OUTPUT_BYTES = ENRICHER_DEFAULTS.maxOutputBatchBytes;
const T0 = Date.UTC(2026, 10, 25, 6, 0, 0);
// Samples 10 ms apart: the run covers MESSAGES / 100 seconds of plant time; orders switch halfway.
const SPAN_MS = MESSAGES * 10;
const iso = (t: number): string => new Date(t).toISOString();
const MEASUREMENTS = ['Temperature', 'Speed', 'Pressure', 'Torque'];

function sample(seq: number): TelemetryRawV1 {
  const s = seq % SERIES;
  const machine = s % MACHINES;
  const t = T0 + seq * 10;
  return {
    sourceId: 'plant-hamburg',
    nodeId: `ns=2;s=Line${machine % LINES}.M${machine}.${MEASUREMENTS[s % MEASUREMENTS.length]}${Math.floor(s / MACHINES)}`,
    seq,
    origin: 'opcua',
    value: Math.round(Math.sin(seq / 50) * 10_000) / 100,
    dataType: 'Double',
    status: 0,
    sourceTime: iso(t),
    serverTime: iso(t + 4),
  };
}

const base = { changedAt: iso(T0), attributes: {} };
const asset = (id: string, parentId: string | null, level: ErpAssetV1['level'], path: string, extra: Partial<ErpAssetV1> = {}): ErpAssetV1 => ({ ...base, id, parentId, level, name: id, path, validFrom: '2020-01-01T00:00:00.000Z', validTo: null, ...extra });

async function publishContext(producer: BatchingProducer): Promise<void> {
  const assets = [asset('acme', null, 'enterprise', 'acme'), asset('hh', 'acme', 'site', 'acme/hh')];
  for (let l = 0; l < LINES; l++) assets.push(asset(`line${l}`, 'hh', 'line', `acme/hh/line${l}`, { costCentre: `CC-${100 + l}` }));
  for (let m = 0; m < MACHINES; m++) assets.push(asset(`m${m}`, `line${m % LINES}`, 'machine', `acme/hh/line${m % LINES}/m${m}`, { limits: { temperature: { low: 2, high: 80, unit: 'CEL' } } }));
  await producer.sendMany(erpAssetsV1, assets);
  const half = T0 + SPAN_MS / 2;
  const orders = [];
  for (let l = 0; l < LINES; l++) {
    orders.push({ ...base, id: `PO-${l}-A`, assetId: `line${l}`, material: 'MAT-A', plannedQuantity: 1000, status: 'completed' as const, idealCycleTimeS: 2, validFrom: iso(T0 - 3_600_000), validTo: iso(half) });
    orders.push({ ...base, id: `PO-${l}-B`, assetId: `line${l}`, material: 'MAT-B', plannedQuantity: 1000, status: 'in-progress' as const, validFrom: iso(half), validTo: null });
  }
  await producer.sendMany(erpProductionOrdersV1, orders);
  const wos = [];
  for (let m = 0; m < MACHINES; m += 5) wos.push({ ...base, id: `WO-${m}`, assetId: `m${m}`, type: 'PM01', status: 'closed' as const, validFrom: iso(T0 + SPAN_MS / 4), validTo: iso(T0 + SPAN_MS / 3) });
  await producer.sendMany(erpWorkOrdersV1, wos);
  await producer.sendMany(erpShiftsV1, [
    { ...base, id: 'hh-night', siteId: 'hh', name: 'night', plannedBreakMinutes: 30, validFrom: iso(T0 - 8 * 3_600_000), validTo: iso(T0) },
    { ...base, id: 'hh-early', siteId: 'hh', name: 'early', plannedBreakMinutes: 30, validFrom: iso(T0), validTo: iso(T0 + 8 * 3_600_000) },
    { ...base, id: 'hh-late', siteId: 'hh', name: 'late', plannedBreakMinutes: 30, validFrom: iso(T0 + 8 * 3_600_000), validTo: iso(T0 + 16 * 3_600_000) },
  ]);
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Times from `started()` to `finished()`, wall and CPU of this process: the work, not the set-up
 * before it or the shutdown after it (stopping consumers, leaving the group, disconnecting).
 */
async function window(run: (started: () => void, finished: () => void) => Promise<number>): Promise<RunMeasure> {
  let cpu0 = process.cpuUsage();
  let t0 = process.hrtime.bigint();
  let end: { t: bigint; cpu: NodeJS.CpuUsage } | undefined;
  const items = await run(
    () => {
      cpu0 = process.cpuUsage();
      t0 = process.hrtime.bigint();
    },
    () => {
      end ??= { t: process.hrtime.bigint(), cpu: process.cpuUsage(cpu0) };
    },
  );
  if (!end) throw new Error('BENCH.WINDOW: the run returned without calling finished()');
  return { items, wallMs: Number(end.t - t0) / 1e6, cpuMs: (end.cpu.user + end.cpu.system) / 1000 };
}

async function main(): Promise<void> {
  process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';
  process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  const broker = await startKafka();
  const logger = createLogger({ service: 'bench', level: 'warn' });
  const kafkaSettings = kafkaSettingsSchema.parse({ brokers: broker.brokers, clientId: 'bench-enricher', partitions: PARTITIONS, replicationFactor: 1 });
  const kafka: Kafka = createKafkaClient(kafkaSettings, logger);
  const admin = kafka.admin();
  await admin.connect();
  const values = Array.from({ length: MESSAGES }, (_, i) => sample(i));
  const bytes = Buffer.byteLength(JSON.stringify(values[MESSAGES - 1]));

  /** A fresh topic set with the input and the context written, outside any timed window. */
  async function prepare(label: string): Promise<string> {
    const prefix = uniqueTopicPrefix(`bench-enr-${label}`);
    await ensureTopics(admin, [telemetryRawV1, telemetryEnrichedV1, erpAssetsV1, erpProductionOrdersV1, erpWorkOrdersV1, erpShiftsV1], { prefix, partitions: PARTITIONS, replicationFactor: 1 });
    const producer = new BatchingProducer(kafka, { logger, topicPrefix: prefix, maxBatchMessages: 5000 });
    await publishContext(producer);
    await producer.sendMany(telemetryRawV1, values);
    await producer.close();
    return prefix;
  }

  /** Reads the output to its end (read_committed) and checks every input sample is there once. */
  async function verify(prefix: string, enriched: boolean): Promise<void> {
    const topic = topicName(telemetryEnrichedV1, prefix);
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
    const position = new Map<number, bigint>();
    const seen = new Uint8Array(MESSAGES);
    let read = 0;
    let bad = 0;
    const consumer = kafka.consumer({ groupId: `bench-verify-${uniqueSuffix()}`, maxBytesPerPartition: 4 * 1024 * 1024, maxWaitTimeInMs: 200 });
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => position.set(e.payload.partition, BigInt(e.payload.lastOffset) + 1n));
    const done = deferred();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            read++;
            const s = JSON.parse(m.value!.toString('utf8')) as TelemetryEnrichedV1;
            if (s.seq >= 0 && s.seq < MESSAGES) seen[s.seq]!++;
            if (enriched && (s.context.asset?.level !== 'machine' || s.context.productionOrder === null || s.context.costCentre === null)) bad++;
          }
          await Promise.resolve();
        },
      });
      const timer = setInterval(() => {
        if ([...ends].every(([p, e]) => (position.get(p) ?? 0n) >= e)) done.resolve();
      }, 50);
      await done.promise.finally(() => clearInterval(timer));
    } finally {
      await consumer.disconnect();
    }
    let once = 0;
    for (const c of seen) if (c === 1) once++;
    if (read !== MESSAGES || once !== MESSAGES || bad !== 0) throw new Error(`BENCH.DATA_MISMATCH: ${prefix}: read ${read}, exactly once ${once} of ${MESSAGES}, without context ${bad}`);
  }

  const ours = async (): Promise<RunMeasure> => {
    const prefix = await prepare('ours');
    const metrics = new Registry();
    const settings = enricherSettingsSchema.parse({
      kafka: { ...kafkaSettings, topicPrefix: prefix },
      observability: { logLevel: 'warn', opsPort: 0 },
      // BENCH_ENRICHER: enricher settings (JSON) to try, e.g. {"partitionsConcurrently":3}; the defaults otherwise.
      enricher: { groupId: `bench-enricher-${uniqueSuffix()}`, provisionTopics: false, mapping: [{ kind: 'pattern', target: 'nodeId', regex: '^ns=2;s=Line\\d+\\.(M\\d+)\\.', assetId: '${1:lower}' }], ...ENRICHER_OVERRIDES },
    });
    const app = new EnricherApplication(settings, { logger, metrics, opsServer: false });
    const m = await window(async (started, finished) => {
      try {
        await app.start();
        started();
        const out = metrics.getSingleMetric('weir_kafka_transaction_output_messages_total')!;
        for (;;) {
          const committed = (await out.get()).values.reduce((sum, v) => sum + v.value, 0);
          if (committed >= MESSAGES) {
            finished();
            return committed;
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      } finally {
        await app.stop();
      }
    });
    await verify(prefix, true);
    return m;
  };

  const passthrough = async (transactional: boolean): Promise<RunMeasure> => {
    const prefix = await prepare(transactional ? 'tx' : 'bare');
    const input = topicName(telemetryRawV1, prefix);
    const output = topicName(telemetryEnrichedV1, prefix);
    const groupId = `bench-pass-${uniqueSuffix()}`;
    // Plain: one idempotent producer for every partition. Transactional: one producer per input partition
    // (as the enricher has), so that partitions' transactions can be open at the same time.
    const producers = transactional
      ? Array.from({ length: PARTITIONS }, (_, p) => createTransactionalProducer(kafka, { transactionalId: `bench-pass-${uniqueSuffix()}-${p}` }))
      : [kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false })];
    const consumer = kafka.consumer({ groupId, ...FETCH });
    const m = await window(async (started, finished) => {
      let sent = 0;
      const done = deferred();
      await Promise.all(producers.map((p) => p.connect()));
      await consumer.connect();
      try {
        await consumer.subscribe({ topic: input, fromBeginning: true });
        await consumer.run({
          autoCommit: !transactional,
          partitionsConsumedConcurrently: CONCURRENTLY,
          eachBatch: async ({ batch }) => {
            const records = batch.messages.map((msg) => ({ topic: output, message: { key: msg.key, value: msg.value } as Message }));
            const producer = producers[transactional ? batch.partition : 0]!;
            const tx = transactional ? await producer.transaction() : undefined;
            for (const part of splitByBytes(records, MAX_OUTPUT_BYTES)) {
              await (tx ?? producer).sendBatch({ topicMessages: [{ topic: output, messages: part.map((r) => r.message) }], acks: -1 });
            }
            if (tx) {
              await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() }] }] });
              await tx.commit();
            }
            sent += records.length;
            if (sent >= MESSAGES) {
              finished();
              done.resolve();
            }
          },
        });
        started();
        await done.promise;
        return sent;
      } finally {
        await consumer.disconnect();
        await Promise.all(producers.map((p) => p.disconnect()));
      }
    });
    await verify(prefix, false);
    return m;
  };

  const txRuns: RunMeasure[] = [];
  let turn = 0;
  const baseline = async (): Promise<RunMeasure> => {
    // The transactional pass-through rides along, before or after the plain one by turns.
    const txFirst = turn++ % 2 === 0;
    if (txFirst) txRuns.push(await passthrough(true));
    const plain = await passthrough(false);
    if (!txFirst) txRuns.push(await passthrough(true));
    return plain;
  };

  try {
    const result = await compare({ pairs: PAIRS, warmup: WARMUP, ours, baseline });
    const tx = txRuns.slice(WARMUP);
    const oursRate = median(result.ours.map(rate));
    const bareRate = median(result.baseline.map(rate));
    const txRate = median(tx.map(rate));
    const txRatios = result.ours.map((o, i) => rate(o) / rate(tx[i]!));
    const cpu = { ours: Math.round(cpuPerMillion(result.ours)), passthrough: Math.round(cpuPerMillion(result.baseline)), transactional_passthrough: Math.round(cpuPerMillion(tx)) };
    const workload = `${MESSAGES.toLocaleString('en')} ot.telemetry.raw.v1 samples of ~${bytes} B over ${SERIES.toLocaleString('en')} series on ${MACHINES} machines (57 assets, 10 production orders, ${MACHINES / 5} work orders, 3 shifts), ${PARTITIONS} partitions, acks=all; a fresh topic set per run`;
    recordResult(KEY, {
      value: Number(result.medianRatio.toFixed(3)),
      unit: 'ratio',
      goal: 0.8,
      command: COMMAND,
      workload,
      ours: 'EnricherApplication with its defaults: decode + validate input, as-of join, output spliced from the input bytes (not validated again), one Kafka transaction per fetched partition batch, a transactional producer per input partition',
      baseline: `bare kafkajs eachBatch consume + one idempotent producer (acks=all) of the same bytes, kafkajs commit; the enricher's fetch and produce settings (${FETCH.maxBytesPerPartition} B per partition per fetch, ${CONCURRENTLY} partitions at once, ${MAX_OUTPUT_BYTES} B produce requests)`,
      window: 'ours: from start() resolved (context loaded, producers initialised) to the last output committed; baseline: from run() resolved to the last output acknowledged; stopping/disconnecting not timed (it was until 2026-12-01)',
      pairs: PAIRS,
      warmup: WARMUP,
      spread: { min: Number(result.minRatio.toFixed(3)), max: Number(result.maxRatio.toFixed(3)) },
      ratios: result.ratios.map((r) => Number(r.toFixed(3))),
      vs_transactional_passthrough: { median: Number(median(txRatios).toFixed(3)), min: Number(Math.min(...txRatios).toFixed(3)), max: Number(Math.max(...txRatios).toFixed(3)) },
      msgs_per_s: { ours: Math.round(oursRate), passthrough: Math.round(bareRate), transactional_passthrough: Math.round(txRate) },
      cpu_ms_per_million: cpu,
      environment: { ...environment(), kafka: broker.source === 'external' ? 'external' : '3.9 (weir/kafka:3.9)', kafkajs: packageVersion('kafkajs'), zod: packageVersion('zod') },
    });
    process.stdout.write(
      `\n| key | value | goal | spread | workload | command | date |\n|---|---|---|---|---|---|---|\n` +
        `| \`${KEY}\` | **${result.medianRatio.toFixed(2)}** (throughput ratio vs bare pass-through) | ≥ 0.8 | ${result.minRatio.toFixed(2)}–${result.maxRatio.toFixed(2)} over ${PAIRS} pairs | ${workload}; enricher ${Math.round(oursRate / 1000)}k samples/s (${cpu.ours} ms CPU per million), bare pass-through ${Math.round(bareRate / 1000)}k/s (${cpu.passthrough} ms), transactional pass-through ${Math.round(txRate / 1000)}k/s (${cpu.transactional_passthrough} ms); vs the transactional pass-through ${median(txRatios).toFixed(2)} | \`${COMMAND}\` | ${new Date().toISOString().slice(0, 10)} |\n`,
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
