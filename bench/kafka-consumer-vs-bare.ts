/**
 * BatchConsumer (libs/kafka) vs a bare kafkajs `eachBatch` consumer, reading the same
 * topic side by side in one run.
 *
 * Workload: 200,000 valid ot.telemetry.raw.v1 messages of ~200 bytes (1,000 series keys),
 * 3 partitions, produced once up front with the lib's idempotent BatchingProducer
 * (acks=all). Each run reads the whole topic from the beginning with a fresh group id.
 *
 * Ours: BatchConsumer with its defaults (decode + zod validation of every message, DLQ
 * routing, a no-op handler, offset commit after each batch, one partition at a time); its
 * DLQ producer is shared and connected once, as a service shares its producer.
 * Baseline: kafkajs `consumer.run({ eachBatch })` with the same fetch settings, counting
 * messages without decoding them; kafkajs commits after each batch.
 * Timed window, both sides: from the moment the member has joined the group (start() /
 * run() resolved; connect and join are the same kafkajs code on both sides) until the last
 * message was handed over. CPU time is this process's (the broker runs in a container).
 *
 * Every run checks that each partition was read contiguously from offset 0 to its end
 * (nothing lost, nothing doubled); a run that fails the check fails the bench.
 * After the pairs, JSON.parse + zod validation of the same values is timed alone (no
 * Kafka) and recorded beside the ratio, to show how much of the gap it explains.
 *
 * Run: npx tsx bench/kafka-consumer-vs-bare.ts   (env: WEIR_TEST_KAFKA_BROKERS to use an
 * existing broker; BENCH_PAIRS, BENCH_WARMUP, BENCH_MESSAGES to change the run)
 */
import { decode, telemetryRawV1, topicName, type TelemetryRawV1 } from '@weir/contracts';
import { BatchConsumer, BatchingProducer, createKafkaClient, ensureTopics, kafkaSettingsSchema } from '@weir/kafka';
import { createLogger } from '@weir/observability';
import { startKafka, uniqueSuffix, uniqueTopicPrefix } from '@weir/testing';
import type { Admin, Kafka } from 'kafkajs';
import { compare, cpuPerMillion, environment, measure, median, packageVersion, rate, recordResult, type RunMeasure } from './lib/harness';

const KEY = 'kafka.consumer-vs-bare-eachbatch';
const COMMAND = 'npx tsx bench/kafka-consumer-vs-bare.ts';
const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 200_000);
const PARTITIONS = 3;
const SERIES = 1_000;
const PAIRS = Number(process.env['BENCH_PAIRS'] ?? 7);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 2);
// The same fetch settings on both sides (the lib's defaults).
const FETCH = { maxBytesPerPartition: 1024 * 1024, maxBytes: 10 * 1024 * 1024, maxWaitTimeInMs: 1000, minBytes: 1 };

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

/** Checks that batches of a partition arrive contiguously from offset 0; throws on a gap or a repeat. */
class ContiguityCheck {
  private readonly next = new Map<number, bigint>();
  count = 0;

  take(partition: number, firstOffset: string, lastOffset: string, messages: number): void {
    const expected = this.next.get(partition) ?? 0n;
    const first = BigInt(firstOffset);
    const last = BigInt(lastOffset);
    if (first !== expected || last - first + 1n !== BigInt(messages)) {
      throw new Error(`BENCH.DATA_MISMATCH: partition ${partition} expected offset ${expected}, got ${first}..${last} (${messages} messages)`);
    }
    this.next.set(partition, last + 1n);
    this.count += messages;
  }

  verify(ends: Map<number, bigint>): void {
    for (const [p, end] of ends) {
      if ((this.next.get(p) ?? 0n) !== end) throw new Error(`BENCH.DATA_MISMATCH: partition ${p} read to ${this.next.get(p) ?? 0n}, end is ${end}`);
    }
    if (this.count !== MESSAGES) throw new Error(`BENCH.DATA_MISMATCH: read ${this.count} messages, produced ${MESSAGES}`);
  }
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

/** Times from `started()` to the end of `run`, wall and CPU. */
async function window(run: (started: () => void) => Promise<number>): Promise<RunMeasure> {
  let cpu0 = process.cpuUsage();
  let t0 = process.hrtime.bigint();
  const items = await run(() => {
    cpu0 = process.cpuUsage();
    t0 = process.hrtime.bigint();
  });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  return { items, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function main(): Promise<void> {
  process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';
  process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  const broker = await startKafka();
  const logger = createLogger({ service: 'bench', level: 'warn' });
  const kafka: Kafka = createKafkaClient(kafkaSettingsSchema.parse({ brokers: broker.brokers, clientId: 'bench-kafka-consumer' }), logger);
  const admin: Admin = kafka.admin();
  await admin.connect();
  const prefix = uniqueTopicPrefix('bench');
  const topic = topicName(telemetryRawV1, prefix);
  const dlqProducer = new BatchingProducer(kafka, { logger, name: 'dlq', topicPrefix: prefix });
  try {
    await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: PARTITIONS });
    const producer = new BatchingProducer(kafka, { logger, topicPrefix: prefix });
    const bytes = Buffer.byteLength(JSON.stringify(sample(MESSAGES - 1)));
    const produced = await measure(async () => {
      await producer.sendMany(telemetryRawV1, (function* () {
        for (let i = 0; i < MESSAGES; i++) yield sample(i);
      })());
      return MESSAGES;
    });
    await producer.close();
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
    const total = [...ends.values()].reduce((a, b) => a + b, 0n);
    if (total !== BigInt(MESSAGES)) throw new Error(`BENCH.DATA_MISMATCH: topic holds ${total} messages, expected ${MESSAGES}`);
    process.stdout.write(`produced ${MESSAGES} messages of ~${bytes} B to ${PARTITIONS} partitions in ${produced.wallMs.toFixed(0)} ms (${Math.round(rate(produced))}/s, acks=all, idempotent)\n`);
    await dlqProducer.connect();

    const ours = (): Promise<RunMeasure> =>
      window(async (started) => {
        const check = new ContiguityCheck();
        const done = deferred();
        const consumer = new BatchConsumer(kafka, {
          topic: telemetryRawV1,
          topicPrefix: prefix,
          groupId: `bench-ours-${uniqueSuffix()}`,
          logger,
          dlqProducer,
          maxWaitTimeMs: FETCH.maxWaitTimeInMs,
          handler: async (messages, { partition }) => {
            try {
              check.take(partition, messages[0]!.offset, messages[messages.length - 1]!.offset, messages.length);
            } catch (err) {
              done.reject(err);
              return;
            }
            if (check.count >= MESSAGES) done.resolve();
          },
        });
        try {
          await consumer.start();
          started();
          await done.promise;
        } finally {
          await consumer.stop();
        }
        check.verify(ends);
        return check.count;
      });

    const bare = (): Promise<RunMeasure> =>
      window(async (started) => {
        const check = new ContiguityCheck();
        const done = deferred();
        const consumer = kafka.consumer({ groupId: `bench-bare-${uniqueSuffix()}`, ...FETCH });
        try {
          await consumer.connect();
          await consumer.subscribe({ topics: [topic], fromBeginning: true });
          await consumer.run({
            eachBatch: async ({ batch }) => {
              try {
                check.take(batch.partition, batch.firstOffset()!, batch.lastOffset(), batch.messages.length);
              } catch (err) {
                done.reject(err);
                return;
              }
              if (check.count >= MESSAGES) done.resolve();
            },
          });
          started();
          await done.promise;
        } finally {
          await consumer.disconnect();
        }
        check.verify(ends);
        return check.count;
      });

    const result = await compare({ pairs: PAIRS, warmup: WARMUP, ours, baseline: bare });

    // Attribution, not part of the ratio: what JSON.parse + zod validation (the contracts'
    // decode) costs per message here, without Kafka, on the same values.
    const values = Array.from({ length: MESSAGES }, (_, i) => Buffer.from(JSON.stringify(sample(i))));
    const decodeRuns: RunMeasure[] = [];
    for (let r = 0; r < 3; r++) {
      decodeRuns.push(
        await measure(async () => {
          let ok = 0;
          for (const v of values) if (decode(telemetryRawV1, v).ok) ok++;
          if (ok !== MESSAGES) throw new Error(`BENCH.DATA_MISMATCH: ${MESSAGES - ok} values failed to decode`);
          return ok;
        }),
      );
    }
    const cpuDecode = cpuPerMillion(decodeRuns.slice(1));
    const oursRate = median(result.ours.map(rate));
    const bareRate = median(result.baseline.map(rate));
    const cpuOurs = cpuPerMillion(result.ours);
    const cpuBare = cpuPerMillion(result.baseline);
    const workload = `${MESSAGES.toLocaleString('en')} valid ot.telemetry.raw.v1 messages of ~${bytes} B (${SERIES.toLocaleString('en')} series keys), ${PARTITIONS} partitions, produced once with acks=all (idempotent); each run reads the whole topic from the beginning with a fresh group id`;
    recordResult(KEY, {
      value: Number(result.medianRatio.toFixed(3)),
      unit: 'ratio',
      goal: 0.8,
      command: COMMAND,
      workload,
      ours: 'BatchConsumer: decode + zod validation of every message, no-op handler, commit after each batch, 1 partition at a time',
      baseline: 'bare kafkajs eachBatch consumer: no decoding, kafkajs commit after each batch, same fetch settings',
      window: 'from group joined to the last message handed over, both sides',
      pairs: PAIRS,
      warmup: WARMUP,
      spread: { min: Number(result.minRatio.toFixed(3)), max: Number(result.maxRatio.toFixed(3)) },
      ratios: result.ratios.map((r) => Number(r.toFixed(3))),
      ours_msgs_per_s: Math.round(oursRate),
      bare_msgs_per_s: Math.round(bareRate),
      cpu_ms_per_million: { ours: Math.round(cpuOurs), bare: Math.round(cpuBare), decode_and_validate_alone: Math.round(cpuDecode) },
      environment: { ...environment(), kafka: broker.source === 'external' ? 'external' : '3.9 (weir/kafka:3.9)', kafkajs: packageVersion('kafkajs'), zod: packageVersion('zod') },
    });
    process.stdout.write(
      `\n| key | value | goal | spread | workload | command | date |\n|---|---|---|---|---|---|---|\n` +
        `| \`${KEY}\` | **${result.medianRatio.toFixed(2)}** (throughput ratio) | ≥ 0.8 | ${result.minRatio.toFixed(2)}–${result.maxRatio.toFixed(2)} over ${PAIRS} pairs | ${workload}; ours ${Math.round(oursRate / 1000)}k msg/s (${Math.round(cpuOurs)} ms CPU per million), bare ${Math.round(bareRate / 1000)}k msg/s (${Math.round(cpuBare)} ms CPU per million); JSON.parse + zod validation alone ${Math.round(cpuDecode)} ms CPU per million | \`${COMMAND}\` | ${new Date().toISOString().slice(0, 10)} |\n`,
    );
  } finally {
    await dlqProducer.close().catch(() => undefined);
    await admin.disconnect();
    await broker.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
